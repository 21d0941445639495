"""A member's block producer, without IO: the round's block when no one is trusted (docs/consensus.md).

Everything in the block is a function of the round: the aggregatable txs, the aggregate S their members' masked
vectors sum to, the global model decoded from S, and the cutoff as timestamp. Only the proposer and its view sign
outside the header, so every honest proposer of every view builds the same header and its hash collects votes
across views.
"""

from __future__ import annotations

import dataclasses
from collections.abc import Sequence

from zkpot.domain import Block, BlockHeader, Genesis, Reason, RejectedTx, SigningKey, Transaction
from zkpot.domain.limits import MAX_REJECTED
from zkpot.domain.verifiable import decode, integer_weight
from zkpot.ml.model import Weights
from zkpot.roles.producer import GlobalModel, round_header
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


def unopenable(attested: Sequence[Transaction], included: Sequence[Transaction]) -> list[RejectedTx]:
    """A round whose aggregate opens no commitment (a member masked with garbage): its aggregatable txs are left
    out as ``aggregate_unopenable`` beside the dropouts, and the model carries over."""
    out = [RejectedTx(tx.tx_id, tx.client, Reason.AGGREGATE_UNOPENABLE) for tx in sorted(included,
                                                                                         key=lambda t: t.tx_id)]
    return (out + dropouts(attested, included))[:MAX_REJECTED]


def make_block(genesis: Genesis, prev: BlockHeader | None, round_: int, cutoff_ms: int,
               txs: Sequence[Transaction], rejected: Sequence[RejectedTx], aggregate: Aggregate | None,
               key: SigningKey, view: int, initial_correct: int = 0) -> Block:
    """The round's block, signed by ``key`` as view ``view``'s proposer. ``aggregate`` is None exactly when no tx
    is included: the previous global model carries over (``initial_correct``: the genesis model's count, for a
    first block without txs)."""
    if bool(txs) != (aggregate is not None):
        raise ValueError("a block has an aggregate exactly when it includes transactions")
    ordered = sorted(txs, key=lambda tx: tx.tx_id)
    if aggregate is None:
        model = GlobalModel(prev.model_cid, prev.model_sha256, prev.model_commitment, prev.global_correct) if prev \
            else GlobalModel(genesis.initial_model_cid, genesis.initial_model_sha256, "", initial_correct)
        named: dict[str, object] = {}
    else:
        model = GlobalModel(aggregate.model_cid, aggregate.model_sha256, aggregate.commitment, aggregate.correct)
        named = {"aggregate_cid": aggregate.cid, "aggregate_sha256": aggregate.sha256,
                 "aggregate_total": aggregate.total}
    header = round_header(genesis, prev, round_, ordered, len(rejected), model, "", cutoff_ms, **named)
    return Block.create(header, ordered, list(rejected), key, view=view)
