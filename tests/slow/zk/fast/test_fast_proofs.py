"""Real proofs with the fast pipeline over a small test set in two chunks: claims read back, and every tampering
(count, commitment, spliced chunk, reordered chunks, flipped byte) rejected.

The chunk circuits are cached by content hash under $ZKPOT_CACHE (outside the repository); the first run pays for
two small setups.
"""

from __future__ import annotations

import dataclasses
import json
from collections.abc import Callable
from typing import Any

import pytest
from zkpot.domain import Reason
from zkpot.domain.errors import ProofRejected
from zkpot.ml import data as zdata
from zkpot.ml import model as zmodel
from zkpot.zk.fast.build import build
from zkpot.zk.fast.prove import FastProof, encode_bundle, model_commitment, prove_accuracy
from zkpot.zk.fast.spec import FastCircuit, FastCircuitSpec
from zkpot.zk.fast.verify import FastVerifier, verify

pytestmark = pytest.mark.slow

SPEC = FastCircuitSpec(samples=24, chunks=2, logrows=13)


@dataclasses.dataclass
class Proved:
    weights: zmodel.Weights
    result: FastProof


@pytest.fixture(scope="module")
def circuit() -> FastCircuit:
    return build(SPEC, self_test=False)


@pytest.fixture(scope="module")
def strong(circuit: FastCircuit) -> Proved:
    w = zmodel.train(SPEC.arch, zmodel.init_weights(SPEC.arch, 1), zdata.client_shard(0, 4), epochs=20)
    return Proved(w, prove_accuracy(circuit, w))


@pytest.fixture(scope="module")
def weak(circuit: FastCircuit) -> Proved:
    shard = zdata.client_shard(1, 4).head(40)
    w = zmodel.train(SPEC.arch, zmodel.init_weights(SPEC.arch, 2), shard, epochs=1, seed=1)
    return Proved(w, prove_accuracy(circuit, w))


def edited(proved: Proved, edit: Callable[[list[dict[str, Any]]], None]) -> bytes:
    docs = [json.loads(c) for c in proved.result.chunks]
    edit(docs)
    for doc in docs:
        doc["hex_proof"] = "0x" + bytes(doc["proof"]).hex()
    return encode_bundle([json.dumps(d).encode() for d in docs])


def rejected(circuit: FastCircuit, bundle: bytes) -> Reason:
    with pytest.raises(ProofRejected) as info:
        FastVerifier(circuit).check(bundle)
    return info.value.reason


def test_claims_are_read_back_and_equal_the_float_count(circuit: FastCircuit, strong: Proved, weak: Proved) -> None:
    test = zdata.public_test_set(SPEC.samples)
    for proved in (strong, weak):
        commitment, correct, samples = verify(circuit, proved.result.to_bytes())
        assert (commitment, correct, samples) == (proved.result.commitment, proved.result.correct, SPEC.samples)
        assert correct == zmodel.count_correct(SPEC.arch, proved.weights, test)
    assert strong.result.commitment != weak.result.commitment
    assert strong.result.correct != weak.result.correct, "the count tamper below needs two different counts"


def test_commitment_is_recomputed_from_the_weights_alone(circuit: FastCircuit, strong: Proved) -> None:
    assert model_commitment(circuit, strong.weights) == strong.result.commitment


def test_a_changed_count_is_rejected(circuit: FastCircuit, strong: Proved) -> None:
    def bump(docs: list[dict[str, Any]]) -> None:
        count = int.from_bytes(bytes.fromhex(docs[0]["instances"][0][0]), "little")
        docs[0]["instances"][0][0] = (count - 1).to_bytes(32, "little").hex()

    assert rejected(circuit, edited(strong, bump)) == Reason.PROOF_INVALID


def test_the_commitment_of_another_model_is_rejected(circuit: FastCircuit, strong: Proved, weak: Proved) -> None:
    other = bytes.fromhex(weak.result.commitment)

    def swap(docs: list[dict[str, Any]]) -> None:
        for doc in docs:
            doc["proof"][: len(other)] = list(other)

    assert rejected(circuit, edited(strong, swap)) == Reason.PROOF_INVALID


def test_a_chunk_of_another_model_spliced_in_is_rejected(circuit: FastCircuit, strong: Proved, weak: Proved) -> None:
    bundle = encode_bundle([strong.result.chunks[0], weak.result.chunks[1]])
    assert rejected(circuit, bundle) == Reason.COMMITMENT_MISMATCH


def test_chunks_in_the_wrong_order_or_number_are_rejected(circuit: FastCircuit, strong: Proved) -> None:
    first, second = strong.result.chunks
    assert rejected(circuit, encode_bundle([second, first])) == Reason.PROOF_INVALID
    assert rejected(circuit, encode_bundle([first])) == Reason.TEST_SET_MISMATCH


def test_a_flipped_proof_byte_is_rejected(circuit: FastCircuit, strong: Proved) -> None:
    def flip(docs: list[dict[str, Any]]) -> None:
        docs[1]["proof"][len(docs[1]["proof"]) // 2] ^= 1

    assert rejected(circuit, edited(strong, flip)) == Reason.PROOF_INVALID


def test_garbage_is_malformed(circuit: FastCircuit) -> None:
    assert rejected(circuit, b"not json") == Reason.MALFORMED
    assert rejected(circuit, b'{"format": "other", "chunks": []}') == Reason.MALFORMED
