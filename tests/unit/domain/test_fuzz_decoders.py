"""Every wire message decoder either returns a valid message or raises MalformedMessage, whatever it is given.

Inputs tried per run: 200 arbitrary JSON values and 300 mutations of a valid message, each for one of the 20
message classes drawn at random: 500.
"""

from __future__ import annotations

from typing import Any

from hypothesis import given, settings
from hypothesis import strategies as st
from zkpot.bus.codec import encode
from zkpot.domain import MalformedMessage
from zkpot.domain.events import Certificate, Finalized, ProofDone, Proposal, ProveJob, RoundOpen
from zkpot.domain.schema import Message, SignedMessage

from ..strategies import FUZZ, JSON, mutated
from .builders import GENESIS, build_chain
from .secagg.rounds import run

H = "ab" * 32


def valid_messages() -> list[Message]:
    chain = build_chain(1)
    block = chain.blocks[0]
    tx = block.txs[0]
    proposal = Proposal.of(block, chain.attestations)
    return [tx, chain.attestations[tx.tx_id][0], chain.votes[block.hash][0], block.header, block.rejected[0], block,
            GENESIS, RoundOpen(1, H, "bafy-global", 5), ProveJob(H, H, "member-0", 1, H, "bafy-weights"),
            ProofDone(H, H, 1, "bafy-proof", "cd" * 64, 12, 16, 5, 6), proposal.attested[0], proposal,
            Finalized(proposal, tuple(chain.votes[block.hash])),
            Certificate(block.hash, block.header.height, tuple(chain.votes[block.hash])), *secagg_messages()]


def secagg_messages() -> list[Message]:
    r, survivors = run(3, 2, degree=2, threshold=2)
    bundle, reveal = r.bundles[survivors[0]], r.reveals[0]
    return [r.keys[survivors[0]], bundle, bundle.shares[0], r.masked[survivors[0]].message, reveal, reveal.seeds[0]]


VALID = valid_messages()


def test_every_message_class_is_fuzzed() -> None:
    def subclasses(cls: type) -> set[type]:
        return {c for s in cls.__subclasses__() for c in {s} | subclasses(s)}

    assert subclasses(Message) - {SignedMessage} == {type(m) for m in VALID} and len(VALID) == 20


def decodes_or_refuses(cls: type[Message], value: Any) -> None:
    try:
        message = cls.from_dict(value)
    except MalformedMessage:
        return
    again = message.to_dict()
    assert cls.from_dict(again) == message
    encode(again)  # JSON-ready and within the payload limit


@settings(FUZZ, max_examples=200)
@given(cls=st.sampled_from([type(m) for m in VALID]), value=JSON)
def test_arbitrary_json_is_decoded_or_malformed(cls: type[Message], value: Any) -> None:
    decodes_or_refuses(cls, value)


@settings(FUZZ, max_examples=300)
@given(data=st.data())
def test_mutated_messages_are_decoded_or_malformed(data: st.DataObject) -> None:
    valid = data.draw(st.sampled_from(VALID))
    decodes_or_refuses(type(valid), data.draw(mutated(valid.to_dict())))
