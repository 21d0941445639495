"""Verifying a fast proof bundle and reading back what it proves: (weight commitment, k correct, N samples).

Each chunk proof is checked against its own verifying key, whose fixed columns hold that chunk's test samples and
labels: a proof made over other samples, or for another chunk, fails there. The only public instance of a chunk is
its count. All chunks must expose the same weight commitment, so a bundle cannot splice chunks of two models.
"""

from __future__ import annotations

import json
import tempfile
from typing import Any

from zkpot.domain.errors import ProofRejected
from zkpot.domain.reasons import Reason
from zkpot.domain.validation import ProofClaims
from zkpot.zk.commitment import proof_commitment
from zkpot.zk.common import felt_to_int, parse_proof, proof_instances
from zkpot.zk.fast.prove import BUNDLE_FORMAT
from zkpot.zk.fast.spec import FastCircuit

MAX_BUNDLE_BYTES = 16 * 1024 * 1024


def verify(circuit: FastCircuit, bundle: bytes) -> tuple[str, int, int]:
    """(commitment, correct, samples) of a valid bundle; ``ProofRejected`` with the reason code otherwise."""
    claims = FastVerifier(circuit).check(bundle)
    return claims.commitment, claims.correct, claims.samples


class FastVerifier:
    """The zk adapter behind the domain's ProofChecker protocol for a fast circuit (one vk per chunk).

    ``instances_digest`` of the claims is the circuit's test-set binding (the digest of its chunk vk hashes), so
    genesis records it where the plain circuit records the digest of its public test-set instances.
    """

    def __init__(self, circuit: FastCircuit) -> None:
        self.circuit = circuit
        self._bounds = circuit.spec.chunk_bounds()

    def check(self, proof: bytes) -> ProofClaims:
        docs = decode_bundle(proof, len(self._bounds))
        counts, commitments = [], set()
        for i, doc in enumerate(docs):
            counts.append(self._check_chunk(i, doc))
            commitments.add(_commitment(self.circuit, doc))
        if len(commitments) != 1:
            raise ProofRejected(Reason.COMMITMENT_MISMATCH, "chunk proofs bind different weight commitments")
        return ProofClaims(commitment=commitments.pop(), correct=sum(counts), samples=self.circuit.spec.samples,
                           instances_digest=self.circuit.binding_digest)

    def _check_chunk(self, index: int, doc: dict[str, Any]) -> int:
        start, stop = self._bounds[index]
        instances = doc["instances"]
        if len(instances) != 1 or len(instances[0]) != 1:
            raise ProofRejected(Reason.TEST_SET_MISMATCH, f"chunk {index}: expected one public instance (the count)")
        count = felt_to_int(instances[0][0])
        if count > stop - start:
            raise ProofRejected(Reason.CLAIM_MISMATCH, f"chunk {index} claims {count} of {stop - start} samples")
        self._verify(index, stop - start, doc)
        return count

    def _verify(self, index: int, size: int, doc: dict[str, Any]) -> None:
        import ezkl

        c = self.circuit
        with tempfile.NamedTemporaryFile(prefix="zkpot-chunk-", suffix=".json") as f:
            f.write(json.dumps(doc).encode())
            f.flush()
            try:
                # reduced_srs: KZG verification with SHPLONK needs only the first SRS points, not 2^k of them
                ok = ezkl.verify(f.name, str(c.settings(size)), str(c.vk(index)), srs_path=str(c.srs),
                                 reduced_srs=True)
            except (RuntimeError, ValueError, OSError) as e:  # ezkl raises on a failed verification
                raise ProofRejected(Reason.PROOF_INVALID, f"chunk {index} does not verify: {e}") from e
        if not ok:
            raise ProofRejected(Reason.PROOF_INVALID, f"chunk {index} does not verify")


def decode_bundle(data: bytes, chunks: int) -> list[dict[str, Any]]:
    """The chunk proof documents of a bundle, shape-checked; ``ProofRejected(MALFORMED)`` otherwise."""
    if len(data) > MAX_BUNDLE_BYTES:
        raise ProofRejected(Reason.MALFORMED, f"proof bundle of {len(data)} bytes exceeds {MAX_BUNDLE_BYTES}")
    try:
        doc = json.loads(data)
    except (ValueError, RecursionError) as e:  # also too deep, or an int of over 4300 digits
        raise ProofRejected(Reason.MALFORMED, f"proof bundle is not JSON: {e}") from e
    if not isinstance(doc, dict) or doc.get("format") != BUNDLE_FORMAT or not isinstance(doc.get("chunks"), list):
        raise ProofRejected(Reason.MALFORMED, f"not a {BUNDLE_FORMAT} bundle")
    if len(doc["chunks"]) != chunks:
        raise ProofRejected(Reason.TEST_SET_MISMATCH, f"bundle has {len(doc['chunks'])} chunk proofs, the circuit "
                                                      f"has {chunks}")
    return [_chunk_doc(i, chunk) for i, chunk in enumerate(doc["chunks"])]


def _chunk_doc(index: int, chunk: Any) -> dict[str, Any]:
    """One chunk's ezkl proof document, checked as the plain verifier checks a proof file."""
    try:
        doc = parse_proof(json.dumps(chunk).encode())
        proof_instances(doc)
    except ProofRejected as e:
        raise ProofRejected(e.reason, f"chunk {index}: {e.detail}") from e
    return doc


def _commitment(circuit: FastCircuit, doc: dict[str, Any]) -> str:
    try:
        return proof_commitment(circuit.layout, doc["proof"], [])
    except (TypeError, ValueError) as e:
        raise ProofRejected(Reason.MALFORMED, f"cannot read the commitment: {e}") from e
