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
from zkpot.errors import InputError
from zkpot.ml import data as zdata
from zkpot.ml.model import Arch, count_correct, weights_from_bytes


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
    return count_correct(arch, weights, zdata.public_test_set(genesis.samples))


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
