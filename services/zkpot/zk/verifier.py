"""Verifying a proof and reading back what it proves: (weight commitment, k correct of N, test-set digest).

ezkl's verify() checks the proof only against the public instances stored inside the proof file, so this module
also reads those instances back; the domain rules compare them with the task and the transaction.
"""

from __future__ import annotations

import json
import tempfile
from typing import Any

from zkpot.domain.errors import ProofRejected
from zkpot.domain.reasons import Reason
from zkpot.domain.validation import ProofClaims
from zkpot.zk.circuit import Circuit
from zkpot.zk.commitment import proof_commitment
from zkpot.zk.prover import felt_to_int, instances_digest

MAX_PROOF_BYTES = 16 * 1024 * 1024


class ProofVerifier:
    """The zk adapter behind the domain's ProofChecker protocol, for one circuit (one vk)."""

    def __init__(self, circuit: Circuit) -> None:
        self.circuit = circuit
        spec = circuit.spec
        self._n_inputs = spec.samples * spec.arch.layers[0] + spec.samples
        layout = circuit.layout
        self._n_hashed = int(layout.get("elements", 0)) if layout["kind"] == "hashed" else 0

    def check(self, proof: bytes) -> ProofClaims:
        """Claims of a valid proof; ``ProofRejected`` with the reason code otherwise. CPU-bound: not on a loop."""
        doc = parse_proof(proof)
        instances = proof_instances(doc)
        expected = self._n_inputs + self._n_hashed + 1
        if len(instances) != expected:
            raise ProofRejected(Reason.TEST_SET_MISMATCH, f"proof has {len(instances)} public instances, this "
                                f"circuit ({self.circuit.spec.samples} samples) has {expected}")
        self._verify(proof)
        # ezkl lays the instances out as: Poseidon hash of the params (hashed only), inputs, output
        hashed = instances[: self._n_hashed]
        inputs = instances[self._n_hashed : self._n_hashed + self._n_inputs]
        try:
            commitment = proof_commitment(self.circuit.layout, doc["proof"], hashed)
        except (TypeError, ValueError) as e:
            raise ProofRejected(Reason.MALFORMED, f"cannot read the commitment: {e}") from e
        return ProofClaims(
            commitment=commitment,
            correct=felt_to_int(instances[-1]),
            samples=self.circuit.spec.samples,
            instances_digest=instances_digest(_split_inputs(inputs, self.circuit.spec.samples)),
        )

    def _verify(self, proof: bytes) -> None:
        import ezkl

        c = self.circuit
        with tempfile.NamedTemporaryFile(prefix="zkpot-proof-", suffix=".json") as f:
            f.write(proof)
            f.flush()
            try:
                ok = ezkl.verify(f.name, str(c.settings), str(c.vk), srs_path=str(c.srs), reduced_srs=False)
            except (RuntimeError, ValueError, OSError) as e:  # ezkl raises on a failed verification
                raise ProofRejected(Reason.PROOF_INVALID, f"the proof does not verify: {e}") from e
        if not ok:
            raise ProofRejected(Reason.PROOF_INVALID, "the proof does not verify")


def parse_proof(proof: bytes) -> dict[str, Any]:
    if len(proof) > MAX_PROOF_BYTES:
        raise ProofRejected(Reason.MALFORMED, f"proof of {len(proof)} bytes exceeds {MAX_PROOF_BYTES}")
    try:
        doc = json.loads(proof)
    except (UnicodeDecodeError, json.JSONDecodeError) as e:
        raise ProofRejected(Reason.MALFORMED, f"proof is not JSON: {e}") from e
    if not isinstance(doc, dict) or not isinstance(doc.get("proof"), list):
        raise ProofRejected(Reason.MALFORMED, "proof JSON lacks its 'proof' byte list")
    if not all(isinstance(b, int) and 0 <= b < 256 for b in doc["proof"]):
        raise ProofRejected(Reason.MALFORMED, "proof bytes must be integers 0..255")
    hex_proof = doc.get("hex_proof")
    if hex_proof is not None and hex_proof != "0x" + bytes(doc["proof"]).hex():
        raise ProofRejected(Reason.MALFORMED, "hex_proof and proof disagree")
    return doc


def proof_instances(doc: dict[str, Any]) -> list[str]:
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
