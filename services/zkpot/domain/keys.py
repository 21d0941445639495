"""Key material: Ed25519 for signatures, X25519 for sealing models to the aggregator.

Keys travel as lower-case hex. The ``repr`` of a key object shows only a prefix of its public key, so a key
that ends up in a log line or a traceback does not leak its secret.
"""

from typing import Self

import nacl.exceptions
import nacl.public
import nacl.signing
import nacl.utils

from zkpot.domain.encoding import is_hex
from zkpot.domain.errors import InvalidKey

KEY_BYTES = 32
SIGNATURE_BYTES = 64


def _key_bytes(value_hex: str, what: str) -> bytes:
    if not is_hex(value_hex, KEY_BYTES):
        raise InvalidKey(f"{what} must be {2 * KEY_BYTES} lower-case hex characters")
    return bytes.fromhex(value_hex)


class SigningKey:
    """An Ed25519 signing key, built from its 32-byte seed."""

    __slots__ = ("_key", "_public_hex")

    def __init__(self, seed: bytes) -> None:
        if len(seed) != KEY_BYTES:
            raise InvalidKey(f"an Ed25519 seed is {KEY_BYTES} bytes, got {len(seed)}")
        self._key = nacl.signing.SigningKey(bytes(seed))
        self._public_hex: str = self._key.verify_key.encode().hex()

    @classmethod
    def generate(cls) -> Self:
        return cls(nacl.utils.random(KEY_BYTES))

    @classmethod
    def from_seed(cls, seed: bytes) -> Self:
        return cls(seed)

    @classmethod
    def from_hex(cls, seed_hex: str) -> Self:
        return cls(_key_bytes(seed_hex, "an Ed25519 seed"))

    @property
    def seed_hex(self) -> str:
        """The secret seed; store it like a password."""
        return bytes(self._key).hex()

    @property
    def public_hex(self) -> str:
        return self._public_hex

    def sign(self, message: bytes) -> str:
        """Detached signature of ``message`` as hex (Ed25519 is deterministic)."""
        return self._key.sign(message).signature.hex()

    def __repr__(self) -> str:
        return f"SigningKey(public={self._public_hex[:8]}…)"


def verify_signature(public_hex: str, message: bytes, signature_hex: str) -> bool:
    """True iff ``signature_hex`` is a valid signature of ``message`` by ``public_hex``; never raises."""
    if not is_hex(public_hex, KEY_BYTES) or not is_hex(signature_hex, SIGNATURE_BYTES):
        return False
    try:
        verify_key = nacl.signing.VerifyKey(bytes.fromhex(public_hex))
        verify_key.verify(message, bytes.fromhex(signature_hex))
    except (nacl.exceptions.CryptoError, ValueError, TypeError):
        return False
    return True


class BoxKeyPair:
    """An X25519 key pair; models are sealed to its public key and opened with its private key."""

    __slots__ = ("_private", "_public_hex")

    def __init__(self, private: bytes) -> None:
        if len(private) != KEY_BYTES:
            raise InvalidKey(f"an X25519 private key is {KEY_BYTES} bytes, got {len(private)}")
        self._private = nacl.public.PrivateKey(bytes(private))
        self._public_hex: str = self._private.public_key.encode().hex()

    @classmethod
    def generate(cls) -> Self:
        return cls(nacl.utils.random(KEY_BYTES))

    @classmethod
    def from_hex(cls, private_hex: str) -> Self:
        return cls(_key_bytes(private_hex, "an X25519 private key"))

    @property
    def private_hex(self) -> str:
        """The secret key; store it like a password."""
        return self._private.encode().hex()

    @property
    def public_hex(self) -> str:
        return self._public_hex

    def __repr__(self) -> str:
        return f"BoxKeyPair(public={self._public_hex[:8]}…)"
