"""Real ezkl proofs of the default circuit: one setup serves every client, and every tampering is rejected.

The circuit artifacts are cached by content hash under $ZKPOT_CACHE (outside the repository), so only the first
run pays for the setup.
"""

from __future__ import annotations

import dataclasses
import json
from pathlib import Path
from typing import Any

import pytest
from zkpot.domain import Reason, RoundView, SigningKey, check_tx
from zkpot.domain.errors import ProofRejected
from zkpot.ml import data as zdata
from zkpot.ml import model as zmodel
from zkpot.roles.client import make_tx, seal_model
from zkpot.task import Keyring, make_genesis
from zkpot.zk.plain import build as pbuild
from zkpot.zk.plain.prove import model_commitment, prove
from zkpot.zk.plain.spec import Circuit, CircuitSpec, frozen_dir, task_input
from zkpot.zk.plain.system import PlainSystem
from zkpot.zk.plain.verify import ProofVerifier
from zkpot.zk.system import ProofResult

pytestmark = pytest.mark.slow


@dataclasses.dataclass
class Proved:
    weights: zmodel.Weights
    result: ProofResult


@pytest.fixture(scope="module")
def circuit() -> Circuit:
    return pbuild.build(CircuitSpec())


@pytest.fixture(scope="module")
def verifier(circuit: Circuit) -> ProofVerifier:
    return ProofVerifier(circuit)


@pytest.fixture(scope="module")
def strong(circuit: Circuit) -> Proved:
    """Client 0's model, well trained on its shard."""
    w = zmodel.train(circuit.spec.arch, zmodel.init_weights(circuit.spec.arch, 1), zdata.client_shard(0, 4), epochs=20)
    return Proved(w, prove(circuit, w))


@pytest.fixture(scope="module")
def weak(circuit: Circuit) -> Proved:
    """Client 1's model, barely trained on a different shard, so its count differs from the strong one's."""
    shard = zdata.client_shard(1, 4).head(40)
    w = zmodel.train(circuit.spec.arch, zmodel.init_weights(circuit.spec.arch, 2), shard, epochs=1, seed=1)
    return Proved(w, prove(circuit, w))


def tampered(proof: bytes, edit: Any) -> bytes:
    doc = json.loads(proof)
    edit(doc)
    doc["hex_proof"] = "0x" + bytes(doc["proof"]).hex()
    return json.dumps(doc).encode()


def test_two_clients_verify_under_the_same_vk(circuit, verifier, strong, weak) -> None:  # noqa: ANN001
    test = zdata.public_test_set(circuit.spec.samples)
    for proved in (strong, weak):
        claims = verifier.check(proved.result.proof)
        assert claims.correct == proved.result.correct
        assert claims.samples == circuit.spec.samples
        assert claims.commitment == proved.result.commitment
        assert claims.instances_digest == circuit.manifest["instances_digest"]
        assert proved.result.correct == zmodel.count_correct(circuit.spec.arch, proved.weights, test)
    assert strong.result.commitment != weak.result.commitment
    assert strong.result.correct != weak.result.correct, "the tamper cases below need two different counts"


def test_commitment_recomputed_from_the_weights_alone(circuit, strong) -> None:  # noqa: ANN001
    assert model_commitment(circuit, strong.weights) == strong.result.commitment


def _set_count(k: int):  # noqa: ANN202
    def edit(doc: dict[str, Any]) -> None:
        doc["instances"][0][-1] = k.to_bytes(32, "little").hex()
    return edit


def _bump_input(index: int):  # noqa: ANN202
    def edit(doc: dict[str, Any]) -> None:
        felt = int.from_bytes(bytes.fromhex(doc["instances"][0][index]), "little") + 1
        doc["instances"][0][index] = felt.to_bytes(32, "little").hex()
    return edit


def _flip_byte(index: int):  # noqa: ANN202
    def edit(doc: dict[str, Any]) -> None:
        doc["proof"][index] ^= 0x01
    return edit


def test_changed_count_is_rejected(verifier, strong) -> None:  # noqa: ANN001
    forged = tampered(strong.result.proof, _set_count(strong.result.correct + 1))
    with pytest.raises(ProofRejected) as e:
        verifier.check(forged)
    assert e.value.reason is Reason.PROOF_INVALID


@pytest.mark.parametrize("where", ["pixel", "label"])
def test_changed_test_sample_is_rejected(circuit, verifier, strong, where) -> None:  # noqa: ANN001
    samples = circuit.spec.samples
    index = 3 * circuit.spec.arch.layers[0] + 5 if where == "pixel" else samples * circuit.spec.arch.layers[0] + 2
    with pytest.raises(ProofRejected) as e:
        verifier.check(tampered(strong.result.proof, _bump_input(index)))
    assert e.value.reason is Reason.PROOF_INVALID


def test_another_models_commitment_swapped_in_is_rejected(verifier, strong, weak) -> None:  # noqa: ANN001
    other = json.loads(weak.result.proof)["proof"][:64]

    def swap(doc: dict[str, Any]) -> None:
        doc["proof"][:64] = other

    with pytest.raises(ProofRejected) as e:
        verifier.check(tampered(strong.result.proof, swap))
    assert e.value.reason is Reason.PROOF_INVALID


@pytest.mark.parametrize("index", [70, 2000, -5])
def test_flipped_proof_byte_is_rejected(verifier, strong, index) -> None:  # noqa: ANN001
    with pytest.raises(ProofRejected) as e:
        verifier.check(tampered(strong.result.proof, _flip_byte(index)))
    assert e.value.reason is Reason.PROOF_INVALID


def test_proof_paired_with_another_models_instances_is_rejected(verifier, strong, weak) -> None:  # noqa: ANN001
    theirs = json.loads(weak.result.proof)["instances"]

    def pair(doc: dict[str, Any]) -> None:
        doc["instances"] = theirs

    with pytest.raises(ProofRejected) as e:
        verifier.check(tampered(strong.result.proof, pair))
    assert e.value.reason is Reason.PROOF_INVALID


def test_hex_proof_disagreeing_with_proof_bytes_is_malformed(verifier, strong) -> None:  # noqa: ANN001
    doc = json.loads(strong.result.proof)
    doc["proof"][100] ^= 1
    with pytest.raises(ProofRejected) as e:
        verifier.check(json.dumps(doc).encode())
    assert e.value.reason is Reason.MALFORMED


@pytest.mark.parametrize("junk", [b"", b"not json", b"[]", b'{"proof": "x"}', b'{"proof": [1], "instances": 3}'])
def test_corrupt_proof_json_is_malformed(verifier, junk) -> None:  # noqa: ANN001
    with pytest.raises(ProofRejected) as e:
        verifier.check(junk)
    assert e.value.reason is Reason.MALFORMED


# --- the same attacks seen through the validator's transaction rules ---------------------------------------------


@pytest.fixture(scope="module")
def task(circuit: Circuit):  # noqa: ANN201
    keys = Keyring.generate(clients=2, validators=4)
    return keys, make_genesis(PlainSystem(circuit), keys.public())


def _tx(task, proved: Proved, **override: Any):  # noqa: ANN001, ANN202
    keys, genesis = task
    key: SigningKey = keys.clients[0]
    sealed = seal_model(genesis, proved.weights, 100)
    fields = {"commitment": proved.result.commitment, "correct": proved.result.correct,
              "samples": proved.result.samples} | override
    return make_tx(key, 1, genesis.genesis_hash, proof=proved.result.proof, proof_cid="bafy-proof", model=sealed,
                   model_cid="bafy-model", now_ms=1, **fields)


def _check(task, tx, proof: bytes, verifier: ProofVerifier) -> Reason:  # noqa: ANN001
    _, genesis = task
    return check_tx(tx, genesis, RoundView(1, genesis.genesis_hash), proof, verifier)


def test_honest_tx_is_valid(task, strong, verifier) -> None:  # noqa: ANN001
    assert _check(task, _tx(task, strong), strong.result.proof, verifier) is Reason.OK


def test_tx_claiming_more_than_the_proof_is_rejected(task, strong, verifier) -> None:  # noqa: ANN001
    tx = _tx(task, strong, correct=strong.result.correct + 1)
    assert _check(task, tx, strong.result.proof, verifier) is Reason.CLAIM_MISMATCH


def test_tx_with_another_models_commitment_is_rejected(task, strong, weak, verifier) -> None:  # noqa: ANN001
    tx = _tx(task, strong, commitment=weak.result.commitment)
    assert _check(task, tx, strong.result.proof, verifier) is Reason.COMMITMENT_MISMATCH


def test_proof_built_for_a_different_test_set_is_rejected(circuit, task, strong, verifier, tmp_path: Path) -> None:
    """Same circuit, other data: the proof verifies, but its instances are not the genesis test set."""
    other = task_input(circuit.spec.samples)
    other["input_data"][1] = [(label + 1) % 10 for label in other["input_data"][1]]  # relabelled test set
    (tmp_path / "other.json").write_text(json.dumps(other))
    result = prove(circuit, strong.weights, input_json=tmp_path / "other.json")
    assert verifier.check(result.proof).instances_digest != circuit.manifest["instances_digest"]
    tx = _tx(task, Proved(strong.weights, result))
    assert _check(task, tx, result.proof, verifier) is Reason.TEST_SET_MISMATCH


def test_build_reproduces_the_frozen_manifest(circuit: Circuit) -> None:
    """Settings frozen in circuits/ compile to the same circuit on every node (the genesis hashes depend on it)."""
    frozen = json.loads((frozen_dir(circuit.spec) / "manifest.json").read_text())
    for key in ("settings_sha256", "instances_digest", "test_set_sha256", "logrows"):
        assert circuit.manifest[key] == frozen[key], key
