"""The block producer's round logic, without IO: which txs go in, the leader, the aggregate, the block.

The service and the in-process simulation both call these functions; they fetch blobs, verify commitments and
publish the results through their own adapters.
"""

from __future__ import annotations

import dataclasses
import itertools
from collections.abc import Callable, Mapping, Sequence

import numpy as np

from zkpot.domain import (
    Attestation,
    Block,
    BlockHeader,
    Genesis,
    Reason,
    RejectedTx,
    SigningKey,
    Transaction,
    aggregation_weights,
    fedavg,
    merkle_root,
    select_leader,
)
from zkpot.domain.limits import MAX_REJECTED
from zkpot.domain.validation.quorum import is_attested

Weights = dict[str, np.ndarray]


@dataclasses.dataclass(frozen=True)
class GlobalModel:
    """The aggregate published in the clear: where it lives, its hash and commitment, its public accuracy."""

    cid: str
    sha256: str
    commitment: str
    correct: int


def admit(genesis: Genesis, tx: Transaction) -> Reason:
    """Whether the producer stores ``tx`` at all: signed by its client, a genesis member (else the reason).

    A tx that fails here is dropped before it is stored, so a forged tx in a member's name cannot stand for that
    member's decision (collection waits for the member's own tx)."""
    if not tx.signature_valid():
        return Reason.BAD_SIGNATURE
    if tx.client not in genesis.clients:
        return Reason.UNKNOWN_CLIENT
    return Reason.OK


def split_attested(
    genesis: Genesis, txs: Sequence[Transaction], attestations: Mapping[str, Sequence[Attestation]]
) -> tuple[list[Transaction], list[RejectedTx]]:
    """Txs with a quorum of valid attestations, and the rest (genesis members' only) with the most common refusal
    reason.

    The refused list is bounded by ``MAX_REJECTED`` (``zkpot.domain.limits``), which validators enforce: taken
    round-robin over members (every member's first refused tx, then every member's second, ...), so a member
    flooding the round with txs can neither push the block past the bound nor crowd out another member's entry.
    """
    included: list[Transaction] = []
    per_member: dict[str, list[RejectedTx]] = {}
    members = set(genesis.clients)
    for tx in txs:
        found = attestations.get(tx.tx_id, ())
        if is_attested(tx, found, genesis):
            included.append(tx)
        elif tx.client in members:
            per_member.setdefault(tx.client, []).append(RejectedTx(tx.tx_id, tx.client, _refusal(found)))
    rounds = itertools.zip_longest(*per_member.values())
    rejected = [entry for layer in rounds for entry in layer if entry is not None]
    return included, rejected[:MAX_REJECTED]


def _refusal(attestations: Sequence[Attestation]) -> str:
    reasons = [a.reason for a in attestations if not a.valid and a.reason != Reason.OK]
    if not reasons:
        return str(Reason.TX_NOT_ATTESTED)
    return max(sorted(set(reasons)), key=reasons.count)


def open_models(
    txs: Sequence[Transaction],
    load: Callable[[Transaction], Weights | None],
    commit: Callable[[Weights], str],
) -> tuple[list[tuple[Transaction, Weights]], list[RejectedTx]]:
    """Decrypted models that open their tx's commitment; the others are dropped with a reason.

    ``load`` returns None when the sealed model cannot be fetched or opened; ``commit`` recomputes the commitment
    a proof of those weights would expose.
    """
    opened: list[tuple[Transaction, Weights]] = []
    dropped: list[RejectedTx] = []
    for tx in txs:
        weights = load(tx)
        if weights is None:
            dropped.append(RejectedTx(tx.tx_id, tx.client, Reason.MODEL_UNAVAILABLE))
        elif commit(weights) != tx.commitment:
            dropped.append(RejectedTx(tx.tx_id, tx.client, Reason.MODEL_COMMITMENT_MISMATCH))
        else:
            opened.append((tx, weights))
    return opened, dropped


def aggregate(genesis: Genesis, opened: Sequence[tuple[Transaction, Weights]]) -> Weights:
    """FedAvg of the verified models under the genesis rule (weighted by n_train, optionally by accuracy)."""
    txs = [tx for tx, _ in opened]
    return fedavg([w for _, w in opened], aggregation_weights(txs, genesis.aggregation))


def make_block(
    genesis: Genesis,
    prev: BlockHeader | None,
    round_: int,
    txs: Sequence[Transaction],
    rejected: Sequence[RejectedTx],
    model: GlobalModel,
    key: SigningKey,
    now_ms: int,
) -> Block:
    """The signed block of a round: txs sorted by id, leader by the rule, counts and the global model."""
    ordered = sorted(txs, key=lambda tx: tx.tx_id)
    header = round_header(genesis, prev, round_, ordered, len(rejected), model, key.public_hex, now_ms)
    return Block.create(header, ordered, list(rejected), key)


def round_header(genesis: Genesis, prev: BlockHeader | None, round_: int, ordered: Sequence[Transaction],
                 rejected: int, model: GlobalModel, producer: str, timestamp_ms: int, **more: object) -> BlockHeader:
    """The header of a round's block over ``ordered`` (txs in tx-id order): height and link, the leader by the
    rule, the Merkle root, the counts and the global model; ``more`` sets the later fields (the aggregate's)."""
    leader = select_leader(ordered)
    return BlockHeader(
        height=1 if prev is None else prev.height + 1,
        round=round_,
        prev_hash=genesis.genesis_hash if prev is None else prev.block_hash,
        timestamp_ms=timestamp_ms,
        producer=producer,
        leader_client=leader.client if leader else "",
        leader_tx=leader.tx_id if leader else "",
        leader_correct=leader.correct if leader else 0,
        samples=genesis.samples,
        tx_root=merkle_root([tx.tx_id for tx in ordered]),
        accepted=len(ordered),
        rejected=rejected,
        model_cid=model.cid,
        model_sha256=model.sha256,
        model_commitment=model.commitment,
        global_correct=model.correct,
        global_samples=genesis.samples,
        aggregation=genesis.aggregation,
        genesis_hash=genesis.genesis_hash,
        **more,  # type: ignore[arg-type]
    )
