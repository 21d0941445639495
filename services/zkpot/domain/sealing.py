"""Anonymous public-key encryption (libsodium sealed boxes) of local models to the aggregator's X25519 key."""

import nacl.exceptions
import nacl.public

from zkpot.domain.encoding import is_hex
from zkpot.domain.errors import SealError
from zkpot.domain.keys import KEY_BYTES, BoxKeyPair


def seal(data: bytes, recipient_public_hex: str) -> bytes:
    """Encrypt ``data`` so that only the holder of the recipient's private key can read it."""
    if not is_hex(recipient_public_hex, KEY_BYTES):
        raise SealError(f"recipient key must be {2 * KEY_BYTES} lower-case hex characters")
    box = nacl.public.SealedBox(nacl.public.PublicKey(bytes.fromhex(recipient_public_hex)))
    return bytes(box.encrypt(data))


def open_sealed(data: bytes, keypair: BoxKeyPair) -> bytes:
    """Decrypt sealed ``data``; raises ``SealError`` if it was not sealed to ``keypair`` or was altered."""
    box = nacl.public.SealedBox(nacl.public.PrivateKey(bytes.fromhex(keypair.private_hex)))
    try:
        return bytes(box.decrypt(data))
    except (nacl.exceptions.CryptoError, ValueError, TypeError) as exc:
        raise SealError(f"cannot open sealed data ({len(data)} bytes): {exc}") from exc
