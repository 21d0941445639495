"""Verifying a proof and reading back what it proves: (weight commitment, k correct of N, test-set digest).

ezkl's verify() checks the proof only against the public instances stored inside the proof file, so this module
also reads those instances back; the domain rules compare them with the task and the transaction.
"""

from __future__ import annotations

import tempfile

from zkpot.domain.errors import ProofRejected
from zkpot.domain.reasons import Reason
from zkpot.domain.validation import ProofClaims
from zkpot.zk.commitment import proof_commitment
from zkpot.zk.common import felt_to_int, parse_proof, proof_instances
from zkpot.zk.plain.prove import instances_digest
from zkpot.zk.plain.spec import Circuit


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


def _split_inputs(flat: list[str], samples: int) -> list[list[str]]:
    n_x = len(flat) - samples
    return [flat[:n_x], flat[n_x:]]
