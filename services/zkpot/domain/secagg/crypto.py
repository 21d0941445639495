"""The primitives of secure aggregation, all from ``cryptography``: X25519 key agreement, HKDF-SHA256 and
ChaCha20-Poly1305.

Every HKDF call takes its ``info`` from ``derive``'s length-prefixed parts, which start with a purpose label, so
no two uses (pair seeds, share keys, PRG keys) can ever produce the same key from the same secret. A share's AEAD
key binds round, sender and recipient, and so does its associated data: a ciphertext moved to another round or
pair fails to open.
"""

from collections.abc import Callable

from cryptography.exceptions import InvalidTag
from cryptography.hazmat.primitives import hashes
from cryptography.hazmat.primitives.asymmetric.x25519 import X25519PrivateKey, X25519PublicKey
from cryptography.hazmat.primitives.ciphers.aead import ChaCha20Poly1305
from cryptography.hazmat.primitives.kdf.hkdf import HKDF

from zkpot.domain.encoding import is_hex
from zkpot.domain.reasons import Reason
from zkpot.domain.secagg.errors import SecAggError

KEY_BYTES = 32
NONCE_BYTES = 12
TAG_BYTES = 16
_DOMAIN = b"zkpot/secagg/v1"

Randomness = Callable[[int], bytes]
"""A source of secret random bytes, ``secrets.token_bytes`` in production; tests inject a seeded one."""


def derive(secret: bytes, purpose: bytes, *parts: bytes, length: int = KEY_BYTES) -> bytes:
    """HKDF-SHA256 of ``secret`` with ``info`` = the domain, ``purpose`` and ``parts``, each length-prefixed."""
    info = b"".join(len(p).to_bytes(2, "big") + p for p in (_DOMAIN, purpose, *parts))
    return HKDF(algorithm=hashes.SHA256(), length=length, salt=None, info=info).derive(secret)


def generate_key(randomness: Randomness) -> X25519PrivateKey:
    return X25519PrivateKey.from_private_bytes(randomness(KEY_BYTES))


def private_key(raw: bytes) -> X25519PrivateKey:
    if len(raw) != KEY_BYTES:
        raise SecAggError(Reason.SECAGG_BAD_KEY, f"an X25519 private key is {KEY_BYTES} bytes, got {len(raw)}")
    return X25519PrivateKey.from_private_bytes(raw)


def public_hex(key: X25519PrivateKey) -> str:
    return key.public_key().public_bytes_raw().hex()


def private_bytes(key: X25519PrivateKey) -> bytes:
    return key.private_bytes_raw()


def pair_seed(my_mask_sk: X25519PrivateKey, peer_mask_pk: str, round: int, a: str, b: str) -> bytes:
    """The 32-byte seed of the pairwise mask between members ``a`` and ``b`` in ``round``: the same for both sides
    (X25519 is symmetric and the pair is put in hex order before it goes into ``info``)."""
    low, high = sorted((a, b))
    return derive(_exchange(my_mask_sk, peer_mask_pk), b"pair", _round(round), _member(low), _member(high))


def share_aad(round: int, sender: str, recipient: str) -> bytes:
    """The associated data of the share ``sender`` encrypts to ``recipient`` in ``round``."""
    return b"share" + _round(round) + _member(sender) + _member(recipient)


def seal_share(enc_sk: X25519PrivateKey, peer_enc_pk: str, plaintext: bytes, aad: bytes,
               randomness: Randomness) -> bytes:
    """``nonce || ChaCha20-Poly1305(plaintext)`` under a key from X25519(``enc_sk``, ``peer_enc_pk``) and ``aad``;
    the nonce is random, so sealing twice under one key stays safe."""
    nonce = randomness(NONCE_BYTES)
    return nonce + ChaCha20Poly1305(_share_key(enc_sk, peer_enc_pk, aad)).encrypt(nonce, plaintext, aad)


def open_share(enc_sk: X25519PrivateKey, peer_enc_pk: str, sealed: bytes, aad: bytes) -> bytes:
    """The plaintext of ``seal_share``; ``SecAggError(secagg_bad_share)`` if it was altered, is for another
    recipient, round or sender, or is too short."""
    if len(sealed) < NONCE_BYTES + TAG_BYTES:
        raise SecAggError(Reason.SECAGG_BAD_SHARE, f"a sealed share has at least {NONCE_BYTES + TAG_BYTES} bytes")
    aead = ChaCha20Poly1305(_share_key(enc_sk, peer_enc_pk, aad))
    try:
        return aead.decrypt(sealed[:NONCE_BYTES], sealed[NONCE_BYTES:], aad)
    except InvalidTag as exc:
        raise SecAggError(Reason.SECAGG_BAD_SHARE, "the share does not open with this key and context") from exc


def _share_key(enc_sk: X25519PrivateKey, peer_enc_pk: str, aad: bytes) -> bytes:
    return derive(_exchange(enc_sk, peer_enc_pk), b"share-key", aad)


def _exchange(sk: X25519PrivateKey, peer_pk: str) -> bytes:
    if not is_hex(peer_pk, KEY_BYTES):
        raise SecAggError(Reason.SECAGG_BAD_KEY, f"an X25519 public key is {2 * KEY_BYTES} lower-case hex characters")
    try:
        return sk.exchange(X25519PublicKey.from_public_bytes(bytes.fromhex(peer_pk)))
    except ValueError as exc:  # a low-order point gives the all-zero secret, which cryptography refuses
        raise SecAggError(Reason.SECAGG_BAD_KEY, f"X25519 with this public key fails: {exc}") from exc


def _round(round: int) -> bytes:
    return round.to_bytes(8, "big")


def _member(client: str) -> bytes:
    if not is_hex(client, KEY_BYTES):
        raise SecAggError(Reason.SECAGG_BAD_KEY, "a member is named by its 64-hex-character Ed25519 key")
    return bytes.fromhex(client)
