"""Verifying a proof and reading back what it proves: (weight commitment, k correct of N, test-set digest).

ezkl's verify() checks the proof only against the public instances stored inside the proof file, so this
module also reads those instances back; the domain rules compare them with the task and the transaction.
"""

from __future__ import annotations

import json
import tempfile
from pathlib import Path
from typing import Any

from zkpot.domain.errors import ProofRejected
from zkpot.domain.reasons import Reason
from zkpot.domain.validation import ProofClaims
from zkpot.zk.circuit import Circuit
from zkpot.zk.prover import felt_to_int, instances_digest


class ProofVerifier:
    """The zk adapter behind the domain's ProofChecker protocol, for one circuit (one vk)."""

    def __init__(self, circuit: Circuit) -> None:
        self.circuit = circuit
        spec = circuit.spec
        self._n_inputs = spec.samples * spec.arch.layers[0] + spec.samples

    def check(self, proof: bytes) -> ProofClaims:
        doc = _parse(proof)
        instances = _instances(doc)
        layout = self.circuit.manifest["commitment_layout"]
        extra = layout.get("elements", 0) if layout["kind"] == "hashed" else 0
        if len(instances) != self._n_inputs + extra + 1:
            raise ProofRejected(Reason.TEST_SET_MISMATCH,
                                f"proof has {len(instances)} public instances, this circuit "
                                f"({self.circuit.spec.samples} samples) has {self._n_inputs + extra + 1}")
        self._verify(proof)
        digest = instances_digest(_split_inputs(instances[: self._n_inputs], self.circuit.spec.samples))
        return ProofClaims(
            commitment=_commitment(doc, instances, self._n_inputs, layout),
            correct=felt_to_int(instances[-1]),
            samples=self.circuit.spec.samples,
            instances_digest=digest,
        )

    def _verify(self, proof: bytes) -> None:
        import ezkl

        c = self.circuit
        with tempfile.NamedTemporaryFile(prefix="zkpot-proof-", suffix=".json") as f:
            f.write(proof)
            f.flush()
            try:
                ok = ezkl.verify(f.name, str(c.settings), str(c.vk), srs_path=str(c.srs), reduced_srs=False)
            except (RuntimeError, ValueError) as e:  # ezkl raises on a failed verification
                raise ProofRejected(Reason.PROOF_INVALID, f"the proof does not verify: {e}") from e
        if not ok:
            raise ProofRejected(Reason.PROOF_INVALID, "the proof does not verify")


def _parse(proof: bytes) -> dict[str, Any]:
    try:
        doc = json.loads(proof)
    except (UnicodeDecodeError, json.JSONDecodeError) as e:
        raise ProofRejected(Reason.MALFORMED, f"proof is not JSON: {e}") from e
    if not isinstance(doc, dict) or not isinstance(doc.get("proof"), list):
        raise ProofRejected(Reason.MALFORMED, "proof JSON lacks its 'proof' byte list")
    return doc


def _instances(doc: dict[str, Any]) -> list[str]:
    inst = doc.get("instances")
    if not (isinstance(inst, list) and len(inst) == 1 and isinstance(inst[0], list)):
        raise ProofRejected(Reason.MALFORMED, "proof JSON must carry one column of public instances")
    col = inst[0]
    if not all(isinstance(x, str) and len(x) == 64 for x in col):
        raise ProofRejected(Reason.MALFORMED, "public instances must be 32-byte hex field elements")
    try:
        bytes.fromhex("".join(col))
    except ValueError as e:
        raise ProofRejected(Reason.MALFORMED, "public instances are not hex") from e
    return col


def _split_inputs(flat: list[str], samples: int) -> list[list[str]]:
    n_x = len(flat) - samples
    return [flat[:n_x], flat[n_x:]]


def _commitment(doc: dict[str, Any], instances: list[str], n_inputs: int, layout: dict[str, Any]) -> str:
    if layout["kind"] == "hashed":
        return "".join(instances[n_inputs : n_inputs + layout["elements"]])
    # polycommit: the weight commitments are the first advice commitments of the proof transcript, each a
    # compressed G1 point; ezkl's witness prints them byte-reversed.
    try:
        raw = bytes(doc["proof"][: 32 * layout["points"]])
    except (TypeError, ValueError) as e:
        raise ProofRejected(Reason.MALFORMED, "proof bytes are not a byte list") from e
    return "".join(raw[i : i + 32][::-1].hex() for i in range(0, len(raw), 32))


def read_proof_file(path: Path) -> bytes:
    return path.read_bytes()
