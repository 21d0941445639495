"""Deterministic keys, messages and chains for the domain tests (no randomness, no IO)."""

import dataclasses
import hashlib
from collections.abc import Sequence
from typing import Any

from zkpot.domain import (
    Attestation,
    Block,
    BlockHeader,
    BoxKeyPair,
    Genesis,
    ProofClaims,
    ProofRejected,
    Reason,
    RejectedTx,
    SigningKey,
    Transaction,
    Vote,
    merkle_root,
    select_leader,
)

SAMPLES = 100
INSTANCES_DIGEST = "ab" * 32


def key(n: int) -> SigningKey:
    return SigningKey.from_seed(bytes([n]) * 32)


PRODUCER = key(1)
VALIDATORS = [key(10 + i) for i in range(4)]
CLIENTS = [key(20 + i) for i in range(3)]
OUTSIDER = key(99)
AGGREGATOR = BoxKeyPair(bytes([7]) * 32)


def make_genesis(**overrides: Any) -> Genesis:
    fields: dict[str, Any] = {
        "task_id": "mnist-mlp-demo",
        "created_ms": 1_700_000_000_000,
        "dataset": "mnist",
        "test_set_sha256": "cd" * 32,
        "test_instances_digest": INSTANCES_DIGEST,
        "samples": SAMPLES,
        "arch": {"name": "mlp", "layers": [64, 32, 10]},
        "circuit": {"vk_sha256": "ef" * 32, "logrows": 17, "commitment": "poseidon"},
        "validators": tuple(k.public_hex for k in VALIDATORS),
        "producer": PRODUCER.public_hex,
        "aggregator_box_key": AGGREGATOR.public_hex,
        "clients": tuple(k.public_hex for k in CLIENTS),
        "quorum": 3,
        "round_deadline_s": 600,
        "accuracy_floor": 50,
        "initial_model_cid": "bafy-initial",
        "initial_model_sha256": "01" * 32,
        "aggregation": "fedavg",
    }
    fields.update(overrides)
    return Genesis(**fields)


GENESIS = make_genesis()


def proof_bytes(client: SigningKey, round_: int) -> bytes:
    return f"proof:{client.public_hex}:{round_}".encode()


def commitment_of(client: SigningKey, round_: int) -> str:
    return hashlib.sha256(f"c:{client.public_hex}:{round_}".encode()).hexdigest()


def make_tx(client: SigningKey, round_: int, parent: str, correct: int, **kw: Any) -> Transaction:
    """A tx signed by ``client`` whose proof is ``proof_bytes(client, round_)``."""
    fields: dict[str, Any] = {
        "round": round_,
        "parent": parent,
        "client": client.public_hex,
        "commitment": commitment_of(client, round_),
        "correct": correct,
        "samples": SAMPLES,
        "proof_cid": f"bafy-proof-{round_}-{client.public_hex[:8]}",
        "proof_sha256": hashlib.sha256(proof_bytes(client, round_)).hexdigest(),
        "model_cid": f"bafy-model-{round_}-{client.public_hex[:8]}",
        "model_sha256": "02" * 32,
        "n_train": 600,
        "timestamp_ms": 1_700_000_000_000 + round_,
    }
    fields.update(kw)
    return Transaction(**fields).sign(client)


class FakeChecker:
    """ProofChecker fake: a proof verifies iff it is registered; returns the registered claims."""

    def __init__(self) -> None:
        self.claims: dict[bytes, ProofClaims] = {}

    def register(self, tx: Transaction, proof: bytes, **overrides: Any) -> None:
        claims = ProofClaims(tx.commitment, tx.correct, tx.samples, INSTANCES_DIGEST)
        self.claims[proof] = dataclasses.replace(claims, **overrides)

    def check(self, proof: bytes) -> ProofClaims:
        if proof not in self.claims:
            raise ProofRejected(Reason.PROOF_INVALID, "unknown proof")
        return self.claims[proof]


def attest(tx: Transaction, validators: Sequence[SigningKey], valid: bool = True) -> list[Attestation]:
    reason = Reason.OK if valid else Reason.PROOF_INVALID
    return [Attestation(tx.tx_id, tx.round, v.public_hex, valid, reason).sign(v) for v in validators]


def vote(block: Block, validators: Sequence[SigningKey], accept: bool = True) -> list[Vote]:
    reason = Reason.OK if accept else Reason.WRONG_LEADER
    return [Vote(block.hash, block.header.height, v.public_hex, accept, reason).sign(v) for v in validators]


def make_header(
    height: int, round_: int, prev_hash: str, txs: Sequence[Transaction], n_rejected: int = 0, **kw: Any
) -> BlockHeader:
    ordered = sorted(txs, key=lambda tx: tx.tx_id)
    leader = select_leader(ordered)
    fields: dict[str, Any] = {
        "height": height,
        "round": round_,
        "prev_hash": prev_hash,
        "timestamp_ms": 1_700_000_100_000 + height,
        "producer": PRODUCER.public_hex,
        "leader_client": leader.client if leader else "",
        "leader_tx": leader.tx_id if leader else "",
        "leader_correct": leader.correct if leader else 0,
        "samples": SAMPLES,
        "tx_root": merkle_root([tx.tx_id for tx in ordered]),
        "accepted": len(ordered),
        "rejected": n_rejected,
        "model_cid": f"bafy-global-{height}",
        "model_sha256": hashlib.sha256(f"global-{height}".encode()).hexdigest(),
        "model_commitment": f"global-commitment-{height}",
        "global_correct": 80,
        "global_samples": SAMPLES,
        "aggregation": "fedavg",
        "genesis_hash": GENESIS.genesis_hash,
    }
    fields.update(kw)
    return BlockHeader(**fields)


@dataclasses.dataclass
class Chain:
    blocks: list[Block]
    votes: dict[str, list[Vote]]
    attestations: dict[str, list[Attestation]]


def build_chain(n_blocks: int = 3) -> Chain:
    """A valid chain: each round every client submits a tx, all attested by 3 of 4 validators."""
    chain = Chain([], {}, {})
    prev_hash = GENESIS.genesis_hash
    for height in range(1, n_blocks + 1):
        txs = [make_tx(c, height, prev_hash, 60 + 5 * i + height) for i, c in enumerate(CLIENTS)]
        for tx in txs:
            chain.attestations[tx.tx_id] = attest(tx, VALIDATORS[:3])
        rejected = [RejectedTx("ee" * 32, OUTSIDER.public_hex, Reason.UNKNOWN_CLIENT)]
        header = make_header(height, height, prev_hash, txs, n_rejected=1)
        block = Block.create(header, txs, rejected, PRODUCER)
        chain.blocks.append(block)
        chain.votes[block.hash] = vote(block, VALIDATORS[:3])
        prev_hash = block.hash
    return chain
