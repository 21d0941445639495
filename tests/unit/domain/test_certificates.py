"""Finality certificates: what a proposal carries about its parent, and when a set of votes certifies a block."""

import dataclasses

from zkpot.domain import Reason, Vote
from zkpot.domain.events import NO_CERTIFICATE, Finalized, Proposal
from zkpot.domain.validation import check_certificate

from .builders import GENESIS, OUTSIDER, VALIDATORS, build_chain, vote

CHAIN = build_chain(2)
B1, B2 = CHAIN.blocks


def _proposal(block, parent=NO_CERTIFICATE) -> Proposal:
    attested = {tx.tx_id: CHAIN.attestations[tx.tx_id] for tx in block.txs}
    return Proposal.of(block, attested, parent)


def test_a_proposal_carries_its_parents_certificate_on_the_wire() -> None:
    parent = Finalized(_proposal(B1), tuple(CHAIN.votes[B1.hash])).certificate
    assert (parent.block_hash, parent.height, parent.votes) == (B1.hash, 1, tuple(CHAIN.votes[B1.hash]))
    proposal = _proposal(B2, parent)
    assert Proposal.from_dict(proposal.to_dict()) == proposal
    older = proposal.to_dict()
    del older["parent"]  # from a producer that sends none
    assert Proposal.from_dict(older).parent == NO_CERTIFICATE


def test_a_quorum_of_accepting_votes_at_the_height_certifies_the_block() -> None:
    votes = CHAIN.votes[B1.hash]
    assert check_certificate(B1.hash, 1, votes, GENESIS) is Reason.OK
    assert check_certificate(B1.hash, 1, [*votes, *vote(B1, VALIDATORS[3:], accept=False)], GENESIS) is Reason.OK


def test_short_misdirected_or_forged_votes_certify_nothing() -> None:
    votes = CHAIN.votes[B1.hash]
    outsider = Vote(B1.hash, 1, OUTSIDER.public_hex, True, Reason.OK).sign(OUTSIDER)
    wrong_height = [dataclasses.replace(v, height=2).sign(k) for v, k in zip(votes, VALIDATORS, strict=False)]
    for bad in (votes[:2], [*votes[:2], outsider], wrong_height, [*votes[:2], votes[0]]):
        assert check_certificate(B1.hash, 1, bad, GENESIS) is Reason.BAD_CERTIFICATE
    assert check_certificate(B2.hash, 2, votes, GENESIS) is Reason.BAD_CERTIFICATE  # votes for another block
    assert check_certificate(B1.hash, 1, vote(B1, VALIDATORS[:3], accept=False), GENESIS) is Reason.BAD_CERTIFICATE
