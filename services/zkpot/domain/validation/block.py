"""Block rules (architecture section 3.6): what a validator checks before it votes for a block.

Checks that need IO (fetching the global model, recomputing its accuracy) are done by the caller, which passes
the results in: ``global_correct`` for ``check_block``, the model bytes for ``check_model_bytes``.
"""

import hashlib
from collections.abc import Callable, Mapping, Sequence

from zkpot.domain.leader import select_leader
from zkpot.domain.merkle import merkle_root
from zkpot.domain.messages import Attestation, Block, BlockHeader, Genesis
from zkpot.domain.reasons import Reason
from zkpot.domain.validation.quorum import is_attested
from zkpot.domain.validation.tx import check_claim_shape, check_tx_envelope


def check_block(
    block: Block,
    genesis: Genesis,
    prev: BlockHeader | None,
    attestations: Mapping[str, Sequence[Attestation]],
    global_correct: int | None,
) -> Reason:
    """First failing rule for ``block``, or ``Reason.OK``.

    ``prev`` is the header of the block it extends (None for the first block, which extends genesis);
    ``attestations`` maps tx id -> attestations gathered for it; ``global_correct`` is the validator's own
    count on the public test set for the block's global model (None: not checked here).
    """
    header = block.header
    rules: tuple[Callable[[], Reason], ...] = (
        lambda: _check_link(header, genesis, prev),
        lambda: _check_producer(block, genesis),
        lambda: _check_txs(block, genesis),
        lambda: _check_attested(block, genesis, attestations),
        lambda: _check_tx_root(block),
        lambda: _check_counts(block),
        lambda: _check_leader(block, genesis),
        lambda: _check_accuracy(header, genesis, global_correct),
    )
    for rule in rules:
        reason = rule()
        if reason is not Reason.OK:
            return reason
    return Reason.OK


def check_model_bytes(header: BlockHeader, data: bytes) -> Reason:
    """The fetched global model must hash to the header's ``model_sha256``."""
    if hashlib.sha256(data).hexdigest() != header.model_sha256:
        return Reason.MODEL_HASH_MISMATCH
    return Reason.OK


def _check_link(header: BlockHeader, genesis: Genesis, prev: BlockHeader | None) -> Reason:
    if prev is None:
        height, prev_hash, min_round = 1, genesis.genesis_hash, 1
    else:
        height, prev_hash, min_round = prev.height + 1, prev.block_hash, prev.round + 1
    if header.height != height:
        return Reason.WRONG_HEIGHT
    if header.prev_hash != prev_hash:
        return Reason.WRONG_PREV_HASH
    if header.genesis_hash != genesis.genesis_hash:
        return Reason.GENESIS_MISMATCH
    if header.round < min_round:
        return Reason.WRONG_ROUND
    return Reason.OK


def _check_producer(block: Block, genesis: Genesis) -> Reason:
    """The single genesis producer signed it; with per-member producers, one of them did, outside the header
    (which of them may propose in the block's view is ``consensus.proposer_of_view``'s rule, checked by the
    validator that knows the round's ranking)."""
    if genesis.producers:
        if block.header.producer or block.proposer not in genesis.producers:
            return Reason.BAD_PRODUCER
    elif block.header.producer != genesis.producer or block.proposer:
        return Reason.BAD_PRODUCER
    if not block.signature_valid():
        return Reason.BAD_PRODUCER_SIGNATURE
    if block.header.aggregation != genesis.aggregation:
        return Reason.MALFORMED
    return Reason.OK


def _check_txs(block: Block, genesis: Genesis) -> Reason:
    """Each tx belongs to this round and parent, and no client or commitment appears twice."""
    header = block.header
    for tx in block.txs:
        reason = check_tx_envelope(tx, genesis, header.round, header.prev_hash)
        if reason is Reason.OK:
            reason = check_claim_shape(tx, genesis)
        if reason is not Reason.OK:
            return reason
    if len({tx.client for tx in block.txs}) != len(block.txs):
        return Reason.DUPLICATE_CLIENT_TX
    if len({tx.commitment for tx in block.txs}) != len(block.txs):
        return Reason.REUSED_COMMITMENT
    return Reason.OK


def _check_attested(block: Block, genesis: Genesis, found: Mapping[str, Sequence[Attestation]]) -> Reason:
    for tx in block.txs:
        if not is_attested(tx, found.get(tx.tx_id, ()), genesis):
            return Reason.TX_NOT_ATTESTED
    return Reason.OK


def _check_tx_root(block: Block) -> Reason:
    """Txs are strictly sorted by tx id (so no duplicates) and the root covers them in that order."""
    ids = [tx.tx_id for tx in block.txs]
    if ids != sorted(set(ids)) or merkle_root(ids) != block.header.tx_root:
        return Reason.BAD_TX_ROOT
    return Reason.OK


def _check_counts(block: Block) -> Reason:
    """Counts match the body; rejected entries carry a known refusal reason and are not also included."""
    header = block.header
    if (header.accepted, header.rejected) != (len(block.txs), len(block.rejected)):
        return Reason.BAD_COUNTS
    included = {tx.tx_id for tx in block.txs}
    refusals = {str(reason) for reason in Reason} - {Reason.OK}
    for entry in block.rejected:
        if entry.tx_id in included or entry.reason not in refusals:
            return Reason.BAD_COUNTS
    return Reason.OK


def _check_leader(block: Block, genesis: Genesis) -> Reason:
    header = block.header
    leader = select_leader(block.txs)
    expected = ("", "", 0) if leader is None else (leader.client, leader.tx_id, leader.correct)
    if (header.leader_client, header.leader_tx, header.leader_correct) != expected:
        return Reason.WRONG_LEADER
    if header.samples != genesis.samples:
        return Reason.WRONG_LEADER
    return Reason.OK


def _check_accuracy(header: BlockHeader, genesis: Genesis, global_correct: int | None) -> Reason:
    if header.global_samples != genesis.samples or header.global_correct > header.global_samples:
        return Reason.GLOBAL_ACCURACY_MISMATCH
    if global_correct is not None and global_correct != header.global_correct:
        return Reason.GLOBAL_ACCURACY_MISMATCH
    if header.global_correct < genesis.accuracy_floor:
        return Reason.GLOBAL_ACCURACY_BELOW_FLOOR
    return Reason.OK
