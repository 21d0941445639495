"""Lost, duplicated, misplaced and foreign transactions, from the final blocks."""

from zkpot.domain.events import Finalized, Proposal

from loadtest.accounting import BlockView, account
from tests.unit.domain.builders import build_chain


def block(hash_: str, round_: int, included: tuple[str, ...] = (), rejected: tuple[tuple[str, str], ...] = ()):
    return BlockView(hash_, round_, included, rejected)


def test_every_tx_once_in_its_round_is_ok() -> None:
    result = account({"a": 1, "b": 1, "c": 2}, [block("h1", 1, ("a",), (("b", "proof_invalid"),)),
                                                 block("h2", 2, ("c",))])
    assert result.ok
    assert (result.submitted, result.included, result.rejected) == (3, 2, 1)
    assert result.rejected_by_reason == {"proof_invalid": 1}
    assert result.lost == result.duplicated == result.misplaced == ()


def test_a_tx_in_no_block_is_lost() -> None:
    result = account({"a": 1, "b": 1}, [block("h1", 1, ("a",))])
    assert result.lost == ("b",) and not result.ok


def test_the_same_block_seen_twice_is_not_a_duplicate() -> None:
    same = block("h1", 1, ("a",))
    assert account({"a": 1}, [same, same]).ok


def test_a_tx_in_two_blocks_or_twice_in_one_is_duplicated() -> None:
    two_blocks = account({"a": 1}, [block("h1", 1, ("a",)), block("h1b", 1, (), (("a", "duplicate_client_tx"),))])
    assert two_blocks.duplicated == ("a",) and not two_blocks.ok
    twice = account({"a": 1}, [block("h1", 1, ("a", "a"))])
    assert twice.duplicated == ("a",)
    assert twice.included == 0  # a duplicated tx is not counted as included


def test_a_tx_in_another_rounds_block_is_misplaced() -> None:
    result = account({"a": 1}, [block("h2", 2, ("a",))])
    assert result.misplaced == ("a",) and not result.ok


def test_txs_the_load_test_did_not_send_are_foreign() -> None:
    result = account({"a": 1}, [block("h1", 1, ("a", "trainer-tx"), (("x", "wrong_round"),))])
    assert result.ok and result.foreign == 2 and result.rejected == 0


def test_to_dict_gives_counts_and_ids() -> None:
    d = account({"a": 1, "b": 1}, [block("h1", 1, ("a",))]).to_dict()
    assert d["lost"] == 1 and d["lost_ids"] == ["b"] and d["ok"] is False


def test_block_view_of_a_finalized_payload() -> None:
    chain = build_chain(1)
    [b] = chain.blocks
    payload = Finalized(Proposal.of(b, chain.attestations), tuple(chain.votes[b.hash])).to_dict()
    view = BlockView.of(payload)
    assert view.hash == b.hash and view.round == 1
    assert view.included == tuple(tx.tx_id for tx in b.txs)
    assert view.rejected == (("ee" * 32, "unknown_client"),)
