import pytest
from zkpot.errors import InputError
from zkpot.zk.commitment import BN254_P, decompress_g1, proof_commitment, witness_commitment

# Captured from ezkl 23.0.5: a witness's polycommit point and the first 64 bytes of the proof made from it.
WITNESS_POINT = "7ab78ed72e5ed8b7facbf9bab47de8decca6fc6504840d3b24ed8b3820c3a593"
PROOF_POINT = (
    "13a5c320388bed243b0d840465fca6ccdee87db4baf9cbfab7d85e2ed78eb77a"
    "036f7e7948b7597697f4be275b67c6e8697e510a386c2d688948f35042cc64cb"
)


def test_decompress_matches_the_proof_transcript() -> None:
    assert decompress_g1(WITNESS_POINT).hex() == PROOF_POINT


def test_the_parity_bit_picks_the_other_root() -> None:
    raw = bytearray(bytes.fromhex(WITNESS_POINT))
    raw[31] ^= 0x80
    point = decompress_g1(raw.hex())
    assert point[:32].hex() == PROOF_POINT[:64]
    y = int.from_bytes(point[32:], "big")
    assert y == BN254_P - int(PROOF_POINT[64:], 16)


def test_a_point_off_the_curve_is_refused() -> None:
    x = next(x for x in range(1, 100) if pow(x**3 + 3, (BN254_P - 1) // 2, BN254_P) != 1)  # no square root
    with pytest.raises(InputError):
        decompress_g1(x.to_bytes(32, "little").hex())


def test_wrong_length_is_refused() -> None:
    with pytest.raises(InputError):
        decompress_g1("00" * 31)


def test_witness_and_proof_commitments_agree() -> None:
    witness = {"processed_params": {"polycommit": [[WITNESS_POINT]], "poseidon_hash": None}}
    commitment = witness_commitment("polycommit", witness)
    proof = list(bytes.fromhex(PROOF_POINT)) + [0] * 100
    assert commitment == proof_commitment({"kind": "polycommit", "points": 1}, proof, [])


def test_hashed_commitment_is_the_poseidon_instances() -> None:
    witness = {"processed_params": {"polycommit": None, "poseidon_hash": ["aa" * 32]}}
    assert witness_commitment("hashed", witness) == "aa" * 32
    assert proof_commitment({"kind": "hashed", "elements": 1}, [], ["aa" * 32]) == "aa" * 32


def test_the_settings_hash_ignores_the_time_gen_settings_ran() -> None:
    from zkpot.zk.artifacts import settings_sha256

    settings = {"run_args": {"logrows": 15}, "num_rows": 123, "timestamp": 1}
    assert settings_sha256(settings) == settings_sha256(dict(settings, timestamp=2))
    assert settings_sha256(settings) != settings_sha256(dict(settings, num_rows=124))


def test_canonical_settings_fix_the_order_of_set_valued_lists() -> None:
    from zkpot.zk.common import canonical_settings

    one = {"required_range_checks": [[0, 16383], [-1, 1]], "required_lookups": [], "num_rows": 7}
    other = dict(one, required_range_checks=[[-1, 1], [0, 16383]])
    assert canonical_settings(one) == canonical_settings(other)
    assert canonical_settings(one)["num_rows"] == 7
