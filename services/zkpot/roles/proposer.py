"""A member's block producer, without IO: the round's block when no one is trusted (docs/consensus.md).

Everything in the block is a function of the round: the aggregatable txs, the aggregate S their members' masked
vectors sum to, the global model decoded from S, and the cutoff as timestamp. Only the proposer and its view sign
outside the header, so every honest proposer of every view builds the same header and its hash collects votes
across views.
"""

from __future__ import annotations

import dataclasses
from collections.abc import Sequence

from zkpot.domain import Block, BlockHeader, Genesis, Reason, RejectedTx, SigningKey, Transaction, merkle_root
from zkpot.domain.consensus import ranking
from zkpot.domain.limits import MAX_REJECTED
from zkpot.domain.verifiable import decode, integer_weight
from zkpot.ml.model import Weights
from zkpot.roles.validator import aggregate_layout


@dataclasses.dataclass(frozen=True)
class Aggregate:
    """The round's aggregate as stored: S's blob, its commitment, the total weight, and the decoded global model's
    blob with its count on the public test set."""

    cid: str
    sha256: str
    commitment: str
    total: int
    model_cid: str
    model_sha256: str
    correct: int


def global_weights(genesis: Genesis, txs: Sequence[Transaction], summed: Sequence[int]) -> tuple[int, Weights]:
    """The total weight sum a_i of ``txs`` and the global model S / total by the genesis decoding rule."""
    total = sum(integer_weight(tx.n_train, tx.correct, genesis.aggregation) for tx in txs)
    return total, decode(aggregate_layout(genesis), total, summed)


def dropouts(attested: Sequence[Transaction], included: Sequence[Transaction]) -> list[RejectedTx]:
    """Members whose tx a quorum attested but whose masked vector the round did not get in time (at most
    ``MAX_REJECTED``, lowest tx ids first, so every proposer lists the same)."""
    kept = {tx.tx_id for tx in included}
    gone = sorted((tx for tx in attested if tx.tx_id not in kept), key=lambda tx: tx.tx_id)
    return [RejectedTx(tx.tx_id, tx.client, Reason.MODEL_UNAVAILABLE) for tx in gone][:MAX_REJECTED]


def make_block(genesis: Genesis, prev: BlockHeader | None, round_: int, cutoff_ms: int,
               txs: Sequence[Transaction], rejected: Sequence[RejectedTx], aggregate: Aggregate | None,
               key: SigningKey, view: int, initial_correct: int = 0) -> Block:
    """The round's block, signed by ``key`` as view ``view``'s proposer. ``aggregate`` is None exactly when no tx
    is included: the previous global model carries over (``initial_correct``: the genesis model's count, for a
    first block without txs)."""
    if bool(txs) != (aggregate is not None):
        raise ValueError("a block has an aggregate exactly when it includes transactions")
    ordered = sorted(txs, key=lambda tx: tx.tx_id)
    leader = ranking(ordered)[0] if ordered else None
    if aggregate is None:
        model = (prev.model_cid, prev.model_sha256, prev.model_commitment, prev.global_correct) if prev else (
            genesis.initial_model_cid, genesis.initial_model_sha256, "", initial_correct)
        named = ("", "", 0)
    else:
        model = (aggregate.model_cid, aggregate.model_sha256, aggregate.commitment, aggregate.correct)
        named = (aggregate.cid, aggregate.sha256, aggregate.total)
    header = BlockHeader(
        height=1 if prev is None else prev.height + 1,
        round=round_,
        prev_hash=genesis.genesis_hash if prev is None else prev.block_hash,
        timestamp_ms=cutoff_ms,
        producer="",
        leader_client=leader.client if leader else "",
        leader_tx=leader.tx_id if leader else "",
        leader_correct=leader.correct if leader else 0,
        samples=genesis.samples,
        tx_root=merkle_root([tx.tx_id for tx in ordered]),
        accepted=len(ordered),
        rejected=len(rejected),
        model_cid=model[0],
        model_sha256=model[1],
        model_commitment=model[2],
        global_correct=model[3],
        global_samples=genesis.samples,
        aggregation=genesis.aggregation,
        genesis_hash=genesis.genesis_hash,
        aggregate_cid=named[0],
        aggregate_sha256=named[1],
        aggregate_total=named[2],
    )
    return Block.create(header, ordered, list(rejected), key, view=view)
