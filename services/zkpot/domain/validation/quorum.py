"""Quorum rules: which attestations and votes count towards the genesis quorum."""

from collections.abc import Sequence

from zkpot.domain.messages import Attestation, Genesis, Transaction, Vote
from zkpot.domain.reasons import Reason


def attesters(tx: Transaction, attestations: Sequence[Attestation], genesis: Genesis) -> set[str]:
    """Distinct genesis validators that validly signed a positive attestation of ``tx``."""
    validators = set(genesis.validators)
    return {
        a.validator
        for a in attestations
        if a.valid
        and a.reason == Reason.OK
        and a.tx_id == tx.tx_id
        and a.round == tx.round
        and a.validator in validators
        and a.signature_valid()
    }


def is_attested(tx: Transaction, attestations: Sequence[Attestation], genesis: Genesis) -> bool:
    return len(attesters(tx, attestations, genesis)) >= genesis.quorum


def _vote_is_sound(vote: Vote, block_hash: str, validators: set[str]) -> bool:
    return vote.block_hash == block_hash and vote.validator in validators and vote.signature_valid()


def check_votes(block_hash: str, votes: Sequence[Vote], genesis: Genesis) -> Reason:
    """OK iff at least ``genesis.quorum`` distinct validators validly voted to accept ``block_hash``.

    Extra bad votes do not spoil a quorum. Without one the result is BAD_VOTE if some vote was for another
    block, from a non-validator or badly signed, else NO_QUORUM.
    """
    validators = set(genesis.validators)
    sound = [vote for vote in votes if _vote_is_sound(vote, block_hash, validators)]
    accepting = {vote.validator for vote in sound if vote.accept and vote.reason == Reason.OK}
    if len(accepting) >= genesis.quorum:
        return Reason.OK
    return Reason.BAD_VOTE if len(sound) < len(votes) else Reason.NO_QUORUM


def check_certificate(block_hash: str, height: int, votes: Sequence[Vote], genesis: Genesis) -> Reason:
    """OK iff ``votes`` certify ``block_hash`` at ``height`` as final: a quorum of genesis validators validly
    voted to accept that block at that height (``check_votes``); else BAD_CERTIFICATE."""
    accepting = [vote for vote in votes if vote.height == height]
    if check_votes(block_hash, accepting, genesis) is not Reason.OK:
        return Reason.BAD_CERTIFICATE
    return Reason.OK
