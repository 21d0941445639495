"""The proposer rule and the round's tx set (docs/consensus.md, section 3): ranking, views, fallback, omission."""

from __future__ import annotations

import dataclasses

import pytest
from zkpot.domain import Block, Reason
from zkpot.domain.consensus import (
    RoundClock,
    aggregatable,
    check_tx_set,
    proposer_of_view,
    ranking,
    views_of,
)
from zkpot.domain.errors import MalformedMessage
from zkpot.domain.messages import Genesis
from zkpot.domain.validation.block import _check_producer

from tests.unit.domain.builders import (
    CLIENTS,
    GENESIS,
    OUTSIDER,
    VALIDATORS,
    attest,
    build_chain,
    key,
    make_genesis,
    make_header,
    make_tx,
)

PRODUCERS = [key(40 + i) for i in range(len(CLIENTS))]
G = make_genesis(producers=tuple(p.public_hex for p in PRODUCERS))
PARENT = GENESIS.genesis_hash


def txs_with(*corrects: int) -> list:
    return [make_tx(CLIENTS[i], 1, PARENT, c) for i, c in enumerate(corrects)]


def test_the_clock_has_no_view_during_collection_and_counts_views_after_the_grace() -> None:
    clock = RoundClock(cutoff_ms=10_000, grace_ms=2_000, view_timeout_ms=5_000)
    assert clock.view_at(11_999) is None
    assert [clock.view_at(t) for t in (12_000, 16_999, 17_000, 27_000)] == [0, 0, 1, 3]
    assert clock.view_start_ms(2) == 22_000
    with pytest.raises(ValueError):
        RoundClock(0, 0, 0)


def test_the_ranking_is_by_proven_accuracy_then_lowest_tx_id() -> None:
    txs = txs_with(70, 90, 90)
    ranked = ranking(txs)
    assert ranked[0].correct == ranked[1].correct == 90 and ranked[0].tx_id < ranked[1].tx_id
    assert ranked[2].correct == 70


def test_view_k_belongs_to_the_member_at_rank_k_then_every_producer_in_turn() -> None:
    txs = txs_with(70, 95, 80)  # rank: member 1, member 2, member 0
    ranked = ranking(txs)
    expected = [PRODUCERS[1], PRODUCERS[2], PRODUCERS[0], PRODUCERS[0], PRODUCERS[1], PRODUCERS[2]]
    assert [proposer_of_view(G, ranked, v) for v in range(6)] == [p.public_hex for p in expected]
    assert views_of(G, ranked, PRODUCERS[0].public_hex, 5) == [2, 3]


def test_a_round_without_transactions_still_has_a_proposer_for_every_view() -> None:
    assert [proposer_of_view(G, [], v) for v in range(4)] == [p.public_hex for p in (*PRODUCERS, PRODUCERS[0])]


def test_aggregatable_needs_a_quorum_and_a_masked_vector() -> None:
    a, b, c = txs_with(70, 80, 90)
    atts = {a.tx_id: attest(a, VALIDATORS[:3]), b.tx_id: attest(b, VALIDATORS[:2]), c.tx_id: attest(c, VALIDATORS)}
    masked = {a.client, b.client}  # c proved but never sent its masked vector (dropped out)
    assert aggregatable(G, [a, b, c], atts, masked) == [a]


def test_one_member_counts_once_even_with_two_attested_txs() -> None:
    first = make_tx(CLIENTS[0], 1, PARENT, 60)
    second = make_tx(CLIENTS[0], 1, PARENT, 99)
    atts = {t.tx_id: attest(t, VALIDATORS) for t in (first, second)}
    [kept] = aggregatable(G, [second, first], atts, {CLIENTS[0].public_hex})
    assert kept.tx_id == min(first.tx_id, second.tx_id)


def test_a_block_must_hold_exactly_the_aggregatable_set() -> None:
    a, b, c = txs_with(70, 80, 90)
    assert check_tx_set([a, b], [b, a]) is Reason.OK
    assert check_tx_set([a], [a, b]) is Reason.OMITTED_TX  # a leader dropping a member
    assert check_tx_set([a, b, c], [a, b]) is Reason.TX_NOT_ATTESTED


def test_genesis_needs_one_producer_per_member() -> None:
    with pytest.raises(MalformedMessage, match="producers"):
        Genesis.from_dict(G.to_dict() | {"producers": list(G.producers[:2])})
    with pytest.raises(MalformedMessage, match="view_timeout_s"):
        Genesis.from_dict(G.to_dict() | {"view_timeout_s": 0})


def test_a_genesis_without_the_new_fields_keeps_its_hash() -> None:
    assert "producers" not in GENESIS.to_dict() and "grace_s" not in GENESIS.to_dict()
    assert Genesis.from_dict(GENESIS.to_dict()).genesis_hash == GENESIS.genesis_hash


def trustless_block(proposer_index: int, view: int) -> Block:
    txs = txs_with(70, 80)
    g = make_genesis(producers=G.producers, producer="", aggregator_box_key="")
    header = make_header(1, 1, g.genesis_hash, txs, producer="", genesis_hash=g.genesis_hash)
    return Block.create(header, txs, [], PRODUCERS[proposer_index], view=view)


def test_the_proposer_and_view_sign_outside_the_hash_so_every_view_builds_the_same_block() -> None:
    first, fallback = trustless_block(0, 0), trustless_block(2, 1)
    assert first.hash == fallback.hash and first.proposer != fallback.proposer
    assert first.signature_valid() and fallback.signature_valid()
    assert Block.from_dict(fallback.to_dict()) == fallback
    forged = dataclasses.replace(fallback, proposer=PRODUCERS[1].public_hex)
    assert not forged.signature_valid()


def test_a_single_producer_block_keeps_its_bytes() -> None:
    block = build_chain(1).blocks[0]
    assert "proposer" not in block.to_dict() and "aggregate_cid" not in block.header.to_dict()
    assert block.signer == block.header.producer and block.signature_valid()


def test_with_member_producers_a_block_names_no_header_producer_and_a_genesis_proposer() -> None:
    g = make_genesis(producers=G.producers, producer="", aggregator_box_key="")
    good = trustless_block(1, 0)
    assert _check_producer(good, g) is Reason.OK
    outsider = Block.create(good.header, good.txs, [], OUTSIDER, view=0)
    assert _check_producer(outsider, g) is Reason.BAD_PRODUCER
    old_style = build_chain(1).blocks[0]
    assert _check_producer(old_style, g) is Reason.BAD_PRODUCER
    assert _check_producer(good, GENESIS) is Reason.BAD_PRODUCER  # a proposer field in a single-producer chain


def test_a_round_every_member_masked_in_closes_at_the_last_masked_input() -> None:
    from zkpot.domain.consensus import Stored, effective_cutoff
    from zkpot.domain.secagg import MaskedInput

    def masked(i: int) -> MaskedInput:
        return MaskedInput(1, CLIENTS[i].public_hex, "ab" * 32, "cd" * 32, "bafy", ()).sign(CLIENTS[i])

    deadline = 10_000
    all_in = [Stored(masked(i), 1_000 * (i + 1)) for i in range(len(CLIENTS))]
    assert effective_cutoff(G, 1, all_in, deadline) == 3_000
    assert effective_cutoff(G, 1, all_in[:2], deadline) == deadline  # one member missing: wait for the deadline
    late = [*all_in[:2], Stored(masked(2), 12_000)]
    assert effective_cutoff(G, 1, late, deadline) == deadline
    again = [*all_in, Stored(dataclasses.replace(masked(0), tx_id="ef" * 32).sign(CLIENTS[0]), 5_000)]
    assert effective_cutoff(G, 1, again, deadline) == 3_000  # a member's second input changes nothing


def test_the_aggregatable_txs_are_each_named_once_whatever_the_sources_repeat() -> None:
    from zkpot.domain.consensus import aggregatable_txs
    from zkpot.domain.secagg import MaskedInput

    txs = txs_with(70, 80, 90)
    inputs = {tx.client: MaskedInput(1, tx.client, tx.tx_id, "cd" * 32, "bafy", ()) for tx in txs}
    found = aggregatable_txs(txs + txs[::-1], inputs)  # a replica's own copies and the block's
    assert found == sorted(txs, key=lambda t: t.tx_id)
    assert ranking(found)[1].correct == 80  # so view 1 is the second-best member's, not the best's again


def test_fewer_survivors_than_the_threshold_aggregate_nothing_so_the_round_goes_on() -> None:
    """With three members the threshold is 2: one surviving masked vector alone would expose that member's model,
    so no honest member reveals for it; the survivors are none and the block holds no txs (the round used to wait
    for reveals forever: an MNIST devnet whose proofs outlasted the deadline found it)."""
    from zkpot.domain.consensus import Stored, aggregatable_txs, secagg_params, survivors
    from zkpot.domain.secagg import MaskedInput, MaskKeys

    txs = txs_with(70, 80, 90)
    keys = [Stored(MaskKeys(1, c.public_hex, "01" * 32, "02" * 32, "03" * 32).sign(c), 100) for c in CLIENTS]
    others = lambda i: tuple(sorted(c.public_hex for j, c in enumerate(CLIENTS) if j != i))  # noqa: E731
    masked = [Stored(MaskedInput(1, tx.client, tx.tx_id, "cd" * 32, "bafy", others(i)).sign(CLIENTS[i]), 1_000)
              for i, tx in enumerate(txs)]
    attested = {tx.tx_id for tx in txs}
    assert secagg_params(G)[1] == 2
    _, two = survivors(G, 1, keys, masked[:2], attested, 10_000)
    assert sorted(two) == sorted(tx.client for tx in txs[:2])
    assert len(aggregatable_txs(txs, two)) == 2
    _, one = survivors(G, 1, keys, masked[:1], attested, 10_000)
    assert one == {} and aggregatable_txs(txs, one) == []
