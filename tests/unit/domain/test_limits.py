"""Every field's bound, the cross-field bounds, and the arithmetic behind ``zkpot.domain.limits``."""

import dataclasses
from typing import Any

import pytest
from zkpot.bus.codec import MAX_PAYLOAD_BYTES, encode
from zkpot.domain import Attestation, Block, BlockHeader, Genesis, MalformedMessage, RejectedTx, Transaction, Vote
from zkpot.domain import limits as lim
from zkpot.domain.events import AttestationSet, Certificate, Finalized, ProofDone, Proposal, ProveJob, RoundOpen
from zkpot.domain.schema import MAX_DEPTH, MAX_ENTRIES, MAX_INT, MAX_OBJECT_BYTES

from .builders import GENESIS, build_chain

H, SIG, BIG = "a" * 64, "b" * 128, MAX_INT
CID, COMMITMENT, REASON = "c" * lim.CID.chars, "d" * lim.COMMITMENT.chars, "r" * lim.REASON.chars
ROUND, COUNT, V = lim.MAX_ROUND, lim.MAX_SAMPLES, lim.MAX_VERSION


def largest_finalized() -> Finalized:
    """The largest message the bounds allow: every field, list and count at its maximum."""
    tx = Transaction(ROUND, H, H, COMMITMENT, COUNT, COUNT, CID, H, CID, H, lim.MAX_N_TRAIN, BIG, SIG, V)
    att = Attestation(H, ROUND, H, False, REASON, SIG, V)
    header = BlockHeader(ROUND, ROUND, H, BIG, H, H, H, COUNT, COUNT, H, lim.MAX_TXS, lim.MAX_REJECTED, CID, H,
                         COMMITMENT, COUNT, COUNT, "n" * 128, H, V, CID, H, lim.AGGREGATE_TOTAL.max)
    block = Block(header, SIG, (tx,) * lim.MAX_TXS, (RejectedTx(H, H, REASON, V),) * lim.MAX_REJECTED, V, H,
                  lim.MAX_ROUND)
    per_tx = lim.MAX_ATTESTATIONS // lim.MAX_TXS
    attested = tuple(AttestationSet(H, (att,) * per_tx, V) for _ in range(lim.MAX_TXS))
    votes = (Vote(H, ROUND, H, False, REASON, SIG, V),) * lim.MAX_VALIDATORS
    return Finalized(Proposal(block, attested, V, Certificate(H, ROUND, votes, V)), votes, V)


def size(message: Any) -> int:
    return len(encode(message.to_dict()))


def test_the_largest_finalized_block_fits_one_nats_payload_with_room() -> None:
    final = largest_finalized()
    block = final.proposal.block
    # the table in zkpot.domain.limits: update it when a bound changes
    assert [size(block.txs[0]), size(final.proposal.attested[0].attestations[0]), size(final.votes[0]),
            size(block.rejected[0]), size(block.header), size(block), size(final)] == [
        1395, 417, 424, 238, 1860, 420_701, 902_754]
    assert lim.MAX_MESSAGE_BYTES == MAX_PAYLOAD_BYTES
    assert size(final) < 0.9 * MAX_PAYLOAD_BYTES


def test_the_largest_messages_decode() -> None:
    final = largest_finalized()
    assert Finalized.from_dict(final.to_dict()) == final


LARGEST = largest_finalized()
TX = LARGEST.proposal.block.txs[0]


@pytest.mark.parametrize(("message", "field", "value"), [
    (TX, "round", ROUND + 1),
    (TX, "correct", COUNT + 1),
    (TX, "samples", COUNT + 1),
    (TX, "n_train", lim.MAX_N_TRAIN + 1),
    (TX, "timestamp_ms", MAX_INT + 1),
    (TX, "v", V + 1),
    (TX, "parent", "a" * 62),
    (TX, "client", "a" * 66),
    (TX, "proof_sha256", ""),
    (TX, "signature", "b" * 126),
    (TX, "commitment", COMMITMENT + "d"),
    (TX, "proof_cid", CID + "c"),
    (TX, "model_cid", CID + "c"),
    (TX, "proof_cid", "bafy\n"),
    (TX, "model_cid", 'bafy"'),
    (TX, "commitment", "0x\\12"),
    (TX, "commitment", "é"),
    (LARGEST.votes[0], "reason", REASON + "r"),
    (LARGEST.votes[0], "height", ROUND + 1),
    (LARGEST.proposal.block.rejected[0], "reason", REASON + "r"),
    (LARGEST.proposal.block.header, "accepted", lim.MAX_TXS + 1),
    (LARGEST.proposal.block.header, "rejected", lim.MAX_REJECTED + 1),
    (LARGEST.proposal.block.header, "leader_tx", "a" * 32),
    (LARGEST.proposal.block.header, "aggregation", "n" * 129),
    (LARGEST.proposal.block, "signature", ""),
    (LARGEST.proposal.block, "txs", [TX.to_dict()] * (lim.MAX_TXS + 1)),
    (LARGEST.proposal.block, "rejected", [LARGEST.proposal.block.rejected[0].to_dict()] * (lim.MAX_REJECTED + 1)),
    (LARGEST.proposal.attested[0], "attestations",
     [LARGEST.proposal.attested[0].attestations[0].to_dict()] * (lim.MAX_VALIDATORS + 1)),
    (LARGEST, "votes", [LARGEST.votes[0].to_dict()] * (lim.MAX_VALIDATORS + 1)),
    (RoundOpen(1, H, CID, BIG), "global_model_cid", CID + "c"),
    (ProveJob(H, H, "member-0", 1, H, CID), "member", "m" * 129),
    (ProveJob(H, H, "member-0", 1, H, CID), "member", "a.b\tc"),
    (ProofDone(H, H, 1, CID, "ab" * 64, 1, 2, 3, 4), "commitment", "ab" * 257),
    (GENESIS, "validators", [H] * (lim.MAX_VALIDATORS + 1)),
    (GENESIS, "clients", [H] * (lim.MAX_CLIENTS + 1)),
    (GENESIS, "clients", ["ab" * 16]),
    (GENESIS, "quorum", lim.MAX_VALIDATORS + 1),
    (GENESIS, "round_deadline_s", lim.MAX_DEADLINE_S + 1),
    (GENESIS, "max_n_train", lim.MAX_N_TRAIN + 1),
    (GENESIS, "task_id", "t" * 129),
])
def test_a_value_over_its_bound_is_malformed(message: Any, field: str, value: object) -> None:
    assert type(message).from_dict(message.to_dict()) == message  # at the bound: accepted
    with pytest.raises(MalformedMessage, match=field):
        type(message).from_dict({**message.to_dict(), field: value})


def nested(depth: int) -> dict[str, Any]:
    obj: dict[str, Any] = {}
    for _ in range(depth - 1):
        obj = {"x": obj}
    return obj


@pytest.mark.parametrize(("value", "why"), [
    (nested(MAX_DEPTH + 1), "deeper"),
    ({"x": [[[[[[[[1]]]]]]]]}, "deeper"),
    ({f"k{i}": i for i in range(MAX_ENTRIES + 1)}, "keys and items"),
    ({"x": list(range(MAX_ENTRIES + 1))}, "keys and items"),
    ({"x": "y" * MAX_OBJECT_BYTES}, "bytes"),
    (nested(100_000), "deeper"),  # far deeper than recursion could go
])
def test_opaque_objects_are_bounded(value: dict[str, Any], why: str) -> None:
    assert Genesis.from_dict({**GENESIS.to_dict(), "arch": nested(MAX_DEPTH)}).arch == nested(MAX_DEPTH)
    with pytest.raises(MalformedMessage, match=f"circuit.*{why}"):
        Genesis.from_dict({**GENESIS.to_dict(), "circuit": value})


def test_genesis_refuses_more_client_validator_pairs_than_a_block_message_holds() -> None:
    keys = [f"{i:064x}" for i in range(lim.MAX_CLIENTS)]
    fits = {**GENESIS.to_dict(), "clients": keys, "validators": keys[: lim.MAX_ATTESTATIONS // lim.MAX_CLIENTS]}
    assert len(Genesis.from_dict(fits).clients) == lim.MAX_CLIENTS
    with pytest.raises(MalformedMessage, match="attestations"):
        Genesis.from_dict({**fits, "validators": keys[: lim.MAX_ATTESTATIONS // lim.MAX_CLIENTS + 1]})


def test_a_proposal_holds_at_most_max_attestations() -> None:
    d = LARGEST.proposal.to_dict()
    d["attested"][0]["attestations"].append(d["attested"][0]["attestations"][0])
    with pytest.raises(MalformedMessage, match="attestations"):
        Proposal.from_dict(d)


class Exploding(dict):  # type: ignore[type-arg]
    def __init__(self, exc: BaseException, *args: Any) -> None:
        super().__init__(*args)
        self.exc = exc

    def __contains__(self, key: object) -> bool:
        raise self.exc


@pytest.mark.parametrize("exc", [RecursionError("deep"), TypeError("odd"), OverflowError("big"), KeyError("k")])
def test_any_failure_while_decoding_is_malformed(exc: BaseException) -> None:
    with pytest.raises(MalformedMessage, match=type(exc).__name__):
        Transaction.from_dict(Exploding(exc, TX.to_dict()))
    block = build_chain(1).blocks[0].to_dict()
    with pytest.raises(MalformedMessage, match=f"header.*{type(exc).__name__}"):
        Block.from_dict({**block, "header": Exploding(exc, block["header"])})


def test_max_n_train_is_left_out_at_its_default_so_old_genesis_keeps_its_hash() -> None:
    old = GENESIS.to_dict()
    assert "max_n_train" not in old and GENESIS.max_n_train == lim.MAX_N_TRAIN
    assert Genesis.from_dict(old).genesis_hash == GENESIS.genesis_hash
    bounded = dataclasses.replace(GENESIS, max_n_train=1257)
    assert bounded.to_dict()["max_n_train"] == 1257
    assert bounded.genesis_hash != GENESIS.genesis_hash
    assert Genesis.from_dict(bounded.to_dict()) == bounded
