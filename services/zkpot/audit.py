"""An independent audit of a chain: every rule from genesis again, and every proof re-verified from IPFS.

Input: the genesis, the finalized bundles as the network published them (block + attestations + votes), a way to
fetch blobs by CID (the CID is checked on every read), and the circuit this node derived. Nothing the producer
stored is trusted: hashes, signatures, quorums, Merkle roots, the leader rule, commitment freshness, every proof,
and every global model's hash and accuracy are recomputed here. With per-member producers also every aggregate:
the block's S must open the weighted sum of its txs' commitments and decode to its global model, and its proposer
must be the producer of the view it names (docs/consensus.md).
"""

from __future__ import annotations

import dataclasses
from collections.abc import Callable, Sequence
from typing import Any

from zkpot.domain import Attestation, Genesis, Reason, Vote, check_model_bytes, sha256_hex, verify_chain
from zkpot.domain.consensus import proposer_of_view, ranking
from zkpot.domain.events import Finalized
from zkpot.domain.secagg import decode_vector, lift
from zkpot.domain.validation import check_proof
from zkpot.roles.validator import aggregate_layout, global_correct, judge_aggregate
from zkpot.task import check_circuit
from zkpot.zk.system import ProofSystem

Fetch = Callable[[str], bytes | None]


@dataclasses.dataclass
class BlockAudit:
    height: int
    hash: str
    round: int
    txs: int
    proofs_verified: int
    problems: list[str]

    @property
    def ok(self) -> bool:
        return not self.problems


@dataclasses.dataclass
class AuditReport:
    genesis: str
    circuit_problems: list[str]
    blocks: list[BlockAudit]

    @property
    def ok(self) -> bool:
        return not self.circuit_problems and bool(self.blocks) and all(b.ok for b in self.blocks)

    def to_dict(self) -> dict[str, Any]:
        return {"ok": self.ok, "genesis": self.genesis, "circuit_problems": self.circuit_problems,
                "blocks": [dataclasses.asdict(b) | {"ok": b.ok} for b in self.blocks]}


def audit(genesis: Genesis, finals: Sequence[Finalized], fetch: Fetch, circuit: ProofSystem) -> AuditReport:
    blocks = [f.block for f in finals]
    votes: dict[str, Sequence[Vote]] = {f.block.hash: list(f.votes) for f in finals}
    attestations: dict[str, list[Attestation]] = {}
    for f in finals:
        for tx_id, found in f.proposal.attestations().items():
            attestations.setdefault(tx_id, []).extend(found)
    failures = dict(verify_chain(genesis, blocks, votes, attestations))
    verifier = circuit.checker()
    report = AuditReport(genesis.genesis_hash, check_circuit(genesis, circuit), [])
    for height, block in enumerate(blocks, start=1):
        problems = [f"chain rule: {failures[height]}"] if height in failures else []
        problems += _model_problems(genesis, block, fetch)
        if genesis.producers:
            problems += _aggregate_problems(genesis, block, blocks[height - 2].header if height > 1 else None,
                                            fetch, circuit)
        verified = 0
        for tx in block.txs:
            reason = check_proof(tx, fetch(tx.proof_cid), verifier, genesis)
            if reason is Reason.OK:
                verified += 1
            else:
                problems.append(f"tx {tx.tx_id[:12]}: {reason}")
        report.blocks.append(BlockAudit(height, block.hash, block.header.round, len(block.txs), verified, problems))
    return report


def _model_problems(genesis: Genesis, block: Any, fetch: Fetch) -> list[str]:
    model = fetch(block.header.model_cid)
    if model is None:
        return [f"global model {block.header.model_cid} unavailable"]
    if check_model_bytes(block.header, model) is not Reason.OK:
        return ["global model bytes do not match the header's sha256"]
    correct = global_correct(genesis, model)
    if correct != block.header.global_correct:
        return [f"global accuracy claimed {block.header.global_correct}, recomputed {correct}"]
    return []


def _aggregate_problems(genesis: Genesis, block: Any, prev: Any, fetch: Fetch, circuit: ProofSystem) -> list[str]:
    """The block's proposer holds its view, and its global model is the aggregate of exactly its txs."""
    problems = []
    if block.proposer != proposer_of_view(genesis, ranking(list(block.txs)), block.view):
        problems.append(f"proposer {block.proposer[:12]} is not the producer of view {block.view}")
    summed = commitment = None
    if block.txs:
        elements = aggregate_layout(genesis).elements
        blob = fetch(block.header.aggregate_cid) if block.header.aggregate_cid else None
        if blob is None or sha256_hex(blob) != block.header.aggregate_sha256:
            return [*problems, f"aggregate {block.header.aggregate_cid or '(none)'} unavailable or not its hash"]
        summed = lift(decode_vector(blob, elements))
        commitment = circuit.commit_message(summed)
    reason = judge_aggregate(genesis, prev, block, summed, commitment, fetch(block.header.model_cid))
    return problems + ([f"aggregate: {reason}"] if reason is not Reason.OK else [])
