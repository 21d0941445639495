"""The mask generator: a seed expanded into field elements with the ChaCha20 keystream.

The ChaCha20 key is HKDF(seed, label), so one seed gives independent streams under different labels (the
self-mask and the pairwise masks never share one); the nonce is fixed because each key is used for one stream.
Each element is 64 keystream bytes reduced mod R, so its bias from uniform is below R / 2**512 < 2**-250.
"""

from cryptography.hazmat.primitives.ciphers import Cipher, algorithms

from zkpot.domain.secagg.crypto import KEY_BYTES, derive
from zkpot.domain.secagg.field import R

WIDE_BYTES = 64
MAX_LENGTH = 2**24  # 1 GiB of keystream; the 32-bit ChaCha20 block counter allows 256 GiB
_NONCE = bytes(16)  # cryptography's ChaCha20 nonce: a 4-byte block counter then 12 bytes, all zero here


def expand(seed: bytes, length: int, label: bytes) -> list[int]:
    """``length`` field elements from ``seed`` under ``label``: the same inputs always give the same elements."""
    if len(seed) != KEY_BYTES:
        raise ValueError(f"a PRG seed is {KEY_BYTES} bytes, got {len(seed)}")
    if not 0 <= length <= MAX_LENGTH:
        raise ValueError(f"a PRG expands to 0..{MAX_LENGTH} elements, not {length}")
    stream = keystream(derive(seed, b"prg", label), WIDE_BYTES * length)
    view = memoryview(stream)
    return [int.from_bytes(view[i:i + WIDE_BYTES], "big") % R for i in range(0, len(stream), WIDE_BYTES)]


def keystream(key: bytes, nbytes: int) -> bytes:
    """The first ``nbytes`` of ChaCha20's keystream under ``key`` and the zero nonce."""
    encryptor = Cipher(algorithms.ChaCha20(key, _NONCE), mode=None).encryptor()
    return encryptor.update(bytes(nbytes))


class SeededRandomness:
    """A deterministic stand-in for ``secrets.token_bytes`` (tests, simulations): successive calls read on along
    one ChaCha20 keystream keyed by ``seed``. Never use it for real keys."""

    def __init__(self, seed: bytes) -> None:
        self._encryptor = Cipher(algorithms.ChaCha20(derive(seed, b"seeded-randomness"), _NONCE),
                                 mode=None).encryptor()

    def __call__(self, nbytes: int) -> bytes:
        return self._encryptor.update(bytes(nbytes))


def self_mask(seed: bytes, length: int) -> list[int]:
    """PRG(b_u): the mask only its owner and, after a reveal of the seed, the unmasker can compute."""
    return expand(seed, length, b"self-mask")


def pair_mask(seed: bytes, length: int) -> list[int]:
    """PRG(s_uv): added by the lower-hex member of the pair and subtracted by the other, so it cancels."""
    return expand(seed, length, b"pair-mask")
