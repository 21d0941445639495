import pytest
from zkpot.domain import BoxKeyPair, InvalidKey, SealError, SigningKey, open_sealed, seal, verify_signature

SEED = bytes(range(32))
PUBLIC = "03a107bff3ce10be1d70dd18e74bc09967e4d6309ba50d5f1ddc8664125531b8"


def test_signing_key_from_fixed_seed() -> None:
    key = SigningKey.from_seed(SEED)
    assert key.public_hex == PUBLIC
    assert key.seed_hex == SEED.hex()
    assert SigningKey.from_hex(SEED.hex()).public_hex == PUBLIC


def test_signatures_are_deterministic_and_verify() -> None:
    key = SigningKey.from_seed(SEED)
    sig = key.sign(b"hello")
    assert sig == key.sign(b"hello")
    assert len(sig) == 128
    assert verify_signature(PUBLIC, b"hello", sig)
    assert not verify_signature(PUBLIC, b"hello!", sig)
    assert not verify_signature(SigningKey.generate().public_hex, b"hello", sig)


@pytest.mark.parametrize(
    ("public", "signature"),
    [
        ("", "00" * 64),
        ("zz" * 32, "00" * 64),
        (PUBLIC, ""),
        (PUBLIC, "00" * 63),
        (PUBLIC, "0" * 127),
        (PUBLIC.upper(), "00" * 64),
        (PUBLIC, "00" * 64),
        ("00" * 31, "00" * 64),
    ],
)
def test_verify_signature_never_raises(public: str, signature: str) -> None:
    assert verify_signature(public, b"m", signature) is False


def test_uppercase_signature_hex_is_refused() -> None:
    key = SigningKey.from_seed(SEED)
    assert not verify_signature(PUBLIC, b"m", key.sign(b"m").upper())


@pytest.mark.parametrize("seed", [b"", bytes(31), bytes(33)])
def test_bad_seed_length(seed: bytes) -> None:
    with pytest.raises(InvalidKey):
        SigningKey.from_seed(seed)


@pytest.mark.parametrize("text", ["", "00" * 31, "ZZ" * 32, SEED.hex().upper()])
def test_bad_seed_hex(text: str) -> None:
    with pytest.raises(InvalidKey):
        SigningKey.from_hex(text)


def test_reprs_hide_secrets() -> None:
    key = SigningKey.from_seed(SEED)
    box = BoxKeyPair.generate()
    assert repr(key) == "SigningKey(public=03a107bf…)"
    assert key.seed_hex not in repr(key) and key.seed_hex[:8] not in repr(key)
    assert box.private_hex[:8] not in repr(box)
    assert repr(box) == f"BoxKeyPair(public={box.public_hex[:8]}…)"


def test_box_keypair_round_trip() -> None:
    box = BoxKeyPair.generate()
    again = BoxKeyPair.from_hex(box.private_hex)
    assert again.public_hex == box.public_hex
    assert len(box.public_hex) == 64
    with pytest.raises(InvalidKey):
        BoxKeyPair.from_hex("00")
    with pytest.raises(InvalidKey):
        BoxKeyPair(bytes(5))


def test_seal_round_trip() -> None:
    box = BoxKeyPair.generate()
    sealed = seal(b"model weights", box.public_hex)
    assert sealed != seal(b"model weights", box.public_hex)  # ephemeral sender key
    assert open_sealed(sealed, box) == b"model weights"
    assert open_sealed(seal(b"", box.public_hex), box) == b""


def test_open_with_wrong_key_fails() -> None:
    sealed = seal(b"secret", BoxKeyPair.generate().public_hex)
    with pytest.raises(SealError):
        open_sealed(sealed, BoxKeyPair.generate())


@pytest.mark.parametrize("data", [b"", b"short", b"\x00" * 100])
def test_open_garbage_fails(data: bytes) -> None:
    with pytest.raises(SealError):
        open_sealed(data, BoxKeyPair.generate())


def test_tampered_ciphertext_fails() -> None:
    box = BoxKeyPair.generate()
    sealed = bytearray(seal(b"secret", box.public_hex))
    sealed[-1] ^= 1
    with pytest.raises(SealError):
        open_sealed(bytes(sealed), box)


@pytest.mark.parametrize("recipient", ["", "00" * 31, "XY" * 32])
def test_seal_to_bad_key_fails(recipient: str) -> None:
    with pytest.raises(SealError):
        seal(b"x", recipient)
