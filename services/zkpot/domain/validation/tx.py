"""Transaction rules (architecture section 3.4): what a validator checks before it attests a transaction."""

import dataclasses
import hashlib
from typing import Protocol

from zkpot.domain.errors import ProofRejected
from zkpot.domain.messages import Genesis, Transaction
from zkpot.domain.reasons import Reason


@dataclasses.dataclass(frozen=True)
class ProofClaims:
    """The public statement a verified proof binds.

    The model committed to by ``commitment`` gets ``correct`` of ``samples`` right on the test set whose
    public instances digest to ``instances_digest``.
    """

    commitment: str
    correct: int
    samples: int
    instances_digest: str


class ProofChecker(Protocol):
    """Verifies proof bytes under the genesis verifying key (implemented by the zk adapter)."""

    def check(self, proof: bytes) -> ProofClaims:
        """Return the proof's public claims, or raise ``ProofRejected`` if it does not verify.

        Only ``ProofRejected`` means "invalid proof"; any other exception is an infrastructure failure that
        propagates, so the caller retries instead of attesting a good transaction as invalid.
        """
        ...


@dataclasses.dataclass
class RoundView:
    """What a validator knows about the open round; ``commitments_seen`` also covers all finalized rounds."""

    round: int
    parent: str
    clients_seen: set[str] = dataclasses.field(default_factory=set)
    commitments_seen: set[str] = dataclasses.field(default_factory=set)

    def record(self, tx: Transaction) -> None:
        """Mark the tx's client and commitment as used (the caller decides when, e.g. only for valid txs)."""
        self.clients_seen.add(tx.client)
        self.commitments_seen.add(tx.commitment)


def check_tx(
    tx: Transaction,
    genesis: Genesis,
    view: RoundView,
    proof_bytes: bytes | None,
    checker: ProofChecker,
) -> Reason:
    """First failing rule for ``tx`` in the open round, or ``Reason.OK``.

    ``proof_bytes`` is None when the proof could not be obtained; pass None only once fetching has
    definitively failed (the tx is then MALFORMED), not on a transient gateway error.
    """
    reason = check_tx_envelope(tx, genesis, view.round, view.parent)
    if reason is Reason.OK:
        reason = _check_fresh(tx, view)
    if reason is Reason.OK:
        reason = check_claim_shape(tx, genesis)
    if reason is Reason.OK:
        reason = check_proof(tx, proof_bytes, checker, genesis)
    return reason


def check_tx_envelope(tx: Transaction, genesis: Genesis, round_: int, parent: str) -> Reason:
    """Signature, client registry, round and parent: the checks a block re-applies to its txs."""
    if not tx.signature_valid():
        return Reason.BAD_SIGNATURE
    if tx.client not in genesis.clients:
        return Reason.UNKNOWN_CLIENT
    if tx.round != round_:
        return Reason.WRONG_ROUND
    if tx.parent != parent:
        return Reason.WRONG_PARENT
    return Reason.OK


def _check_fresh(tx: Transaction, view: RoundView) -> Reason:
    if tx.client in view.clients_seen:
        return Reason.DUPLICATE_CLIENT_TX
    if tx.commitment in view.commitments_seen:
        return Reason.REUSED_COMMITMENT
    return Reason.OK


def check_claim_shape(tx: Transaction, genesis: Genesis) -> Reason:
    """The claim is k of the task's N samples, with 0 <= k <= N, from 1..``genesis.max_n_train`` training samples
    (its FedAvg weight: unbounded, one member could outweigh all others; 0 would leave nothing to average)."""
    if tx.samples != genesis.samples or not 0 <= tx.correct <= tx.samples:
        return Reason.CLAIM_MISMATCH
    if not 1 <= tx.n_train <= genesis.max_n_train:
        return Reason.N_TRAIN_OUT_OF_RANGE
    return Reason.OK


def check_proof(tx: Transaction, proof: bytes | None, checker: ProofChecker, genesis: Genesis) -> Reason:
    """The proof bytes match the tx's hash, verify, and prove exactly the tx's claim over the genesis test set."""
    if proof is None:
        return Reason.MALFORMED
    if hashlib.sha256(proof).hexdigest() != tx.proof_sha256:
        return Reason.PROOF_HASH_MISMATCH
    try:
        claims = checker.check(proof)
    except ProofRejected as exc:
        return exc.reason if exc.reason is not Reason.OK else Reason.PROOF_INVALID
    return _compare_claims(tx, genesis, claims)


def _compare_claims(tx: Transaction, genesis: Genesis, claims: ProofClaims) -> Reason:
    if claims.instances_digest != genesis.test_instances_digest:
        return Reason.TEST_SET_MISMATCH
    if claims.commitment != tx.commitment:
        return Reason.COMMITMENT_MISMATCH
    if (claims.correct, claims.samples) != (tx.correct, tx.samples):
        return Reason.CLAIM_MISMATCH
    return Reason.OK
