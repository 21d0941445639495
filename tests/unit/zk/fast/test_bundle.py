"""Decoding a proof bundle and the test-set binding digest (no ezkl)."""

import json

import pytest
from zkpot.domain import Reason
from zkpot.domain.errors import ProofRejected
from zkpot.zk.fast.build import binding_digest
from zkpot.zk.fast.prove import BUNDLE_FORMAT, encode_bundle
from zkpot.zk.fast.verify import decode_bundle

COUNT = (7).to_bytes(32, "little").hex()


def chunk(**changes: object) -> bytes:
    doc = {"proof": [1, 2, 3], "instances": [[COUNT]], "transcript_type": "EVM", **changes}
    return json.dumps(doc).encode()


def reason(data: bytes, chunks: int = 2) -> Reason:
    with pytest.raises(ProofRejected) as info:
        decode_bundle(data, chunks)
    return info.value.reason


def test_a_well_formed_bundle_decodes_in_chunk_order() -> None:
    docs = decode_bundle(encode_bundle([chunk(), chunk(proof=[9])]), 2)
    assert [d["proof"] for d in docs] == [[1, 2, 3], [9]]


@pytest.mark.parametrize("data", [b"\xff", b"[]", b"{}", json.dumps({"format": "other", "chunks": []}).encode(),
                                  json.dumps({"format": BUNDLE_FORMAT, "chunks": "x"}).encode()])
def test_garbage_is_malformed(data: bytes) -> None:
    assert reason(data) == Reason.MALFORMED


def test_a_wrong_number_of_chunks_is_another_test_set() -> None:
    assert reason(encode_bundle([chunk()])) == Reason.TEST_SET_MISMATCH


@pytest.mark.parametrize("bad", [chunk(proof=[256]), chunk(proof="00"), chunk(instances=[["zz" * 32]]),
                                 chunk(instances=[[COUNT], [COUNT]]), chunk(hex_proof="0x00")])
def test_a_malformed_chunk_is_named(bad: bytes) -> None:
    with pytest.raises(ProofRejected) as info:
        decode_bundle(encode_bundle([chunk(), bad]), 2)
    assert info.value.reason == Reason.MALFORMED
    assert "chunk 1" in str(info.value)


def test_binding_digest_depends_on_every_vk_and_the_order() -> None:
    a = {"start": 0, "stop": 2, "vk_sha256": "aa"}
    b = {"start": 2, "stop": 4, "vk_sha256": "bb"}
    assert binding_digest([a, b]) != binding_digest([b, a])
    assert binding_digest([a, b]) != binding_digest([a, dict(b, vk_sha256="bc")])
