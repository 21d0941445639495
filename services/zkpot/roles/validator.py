"""A validator's judgements: attest one transaction, vote on one proposed block."""

from __future__ import annotations

from collections.abc import Mapping, Sequence

from zkpot.domain import (
    Attestation,
    Block,
    BlockHeader,
    Genesis,
    ProofChecker,
    Reason,
    RoundView,
    SigningKey,
    Transaction,
    Vote,
    check_block,
    check_model_bytes,
    check_tx,
)
from zkpot.domain.errors import AggregationError
from zkpot.domain.verifiable import AggregateLayout, aggregate_holds, decode, integer_weight
from zkpot.errors import InputError
from zkpot.ml import data as zdata
from zkpot.ml.model import Arch, count_correct, weights_from_bytes, weights_to_bytes


def attest(key: SigningKey, genesis: Genesis, view: RoundView, tx: Transaction, proof: bytes | None,
           checker: ProofChecker) -> Attestation:
    """Check ``tx`` against the open round and sign the verdict; a valid tx is recorded in ``view``."""
    reason = check_tx(tx, genesis, view, proof, checker)
    if reason is Reason.OK:
        view.record(tx)
    return Attestation(tx.tx_id, tx.round, key.public_hex, reason is Reason.OK, reason).sign(key)


def global_correct(genesis: Genesis, model: bytes) -> int | None:
    """The public model's count of correct public test samples, or None if the bytes are not a model."""
    arch = Arch(tuple(int(n) for n in genesis.arch["layers"]))
    try:
        weights = weights_from_bytes(arch, model)
    except InputError:
        return None
    return count_correct(arch, weights, zdata.public_test_set(genesis.samples, genesis.task))


def judge_block(genesis: Genesis, prev: BlockHeader | None, block: Block,
                attestations: Mapping[str, Sequence[Attestation]], model: bytes | None,
                used_commitments: set[str]) -> Reason:
    """First rule the proposed block breaks, or OK. ``model`` is the fetched global model (None: unavailable)."""
    if model is None:
        return Reason.MODEL_UNAVAILABLE
    reason = check_model_bytes(block.header, model)
    if reason is not Reason.OK:
        return reason
    correct = global_correct(genesis, model)
    if correct is None:
        return Reason.MODEL_HASH_MISMATCH
    reason = check_block(block, genesis, prev, attestations, correct)
    if reason is Reason.OK and any(tx.commitment in used_commitments for tx in block.txs):
        return Reason.REUSED_COMMITMENT
    return reason


def vote(key: SigningKey, block: Block, reason: Reason) -> Vote:
    return Vote(block.hash, block.header.height, key.public_hex, reason is Reason.OK, reason).sign(key)


def judge_aggregate(genesis: Genesis, prev: BlockHeader | None, block: Block, summed: Sequence[int] | None,
                    commitment_of_sum: str | None, model: bytes | None) -> Reason:
    """With per-member producers: the global model is the aggregate of exactly the block's txs (docs/consensus.md).

    ``summed`` is the block's aggregate S read from its blob (None: unavailable or not the named hash),
    ``commitment_of_sum`` the validator's own commitment to it, ``model`` the global model's bytes. A block
    without txs carries the previous global model over and names no aggregate.
    """
    header = block.header
    if not block.txs:
        carried = (prev.model_cid, prev.model_sha256, prev.model_commitment) if prev else (
            genesis.initial_model_cid, genesis.initial_model_sha256, "")
        named = (header.aggregate_cid, header.aggregate_sha256, header.aggregate_total)
        if (header.model_cid, header.model_sha256, header.model_commitment) != carried or named != ("", "", 0):
            return Reason.GLOBAL_MODEL_NOT_AGGREGATE
        return Reason.OK
    if summed is None or commitment_of_sum is None:
        return Reason.MODEL_UNAVAILABLE
    layout = aggregate_layout(genesis)
    weights = [integer_weight(tx.n_train, tx.correct, genesis.aggregation) for tx in block.txs]
    if header.aggregate_total != sum(weights) or header.model_commitment != commitment_of_sum:
        return Reason.AGGREGATE_MISMATCH
    try:
        if not aggregate_holds([tx.commitment for tx in block.txs], weights, layout.c0, commitment_of_sum):
            return Reason.AGGREGATE_MISMATCH
        decoded = decode(layout, header.aggregate_total, summed)
    except AggregationError:  # a commitment that is no curve point, a sum outside the field's signed range
        return Reason.AGGREGATE_MISMATCH
    if model is None or weights_to_bytes(decoded) != model:
        return Reason.GLOBAL_MODEL_NOT_AGGREGATE
    return Reason.OK


def aggregate_layout(genesis: Genesis) -> AggregateLayout:
    """The message layout and C0 genesis pins for verifiable aggregation (``circuit.aggregate``)."""
    try:
        return AggregateLayout.from_dict(genesis.circuit["aggregate"])
    except (KeyError, TypeError) as e:
        raise InputError("this genesis pins no aggregate layout (circuit.aggregate): it has a single producer") from e
