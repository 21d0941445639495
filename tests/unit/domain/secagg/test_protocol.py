import dataclasses

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st
from zkpot.domain.reasons import Reason
from zkpot.domain.secagg import EncryptedShare, RevealedShare, SecAggError, unmask, unmask_report

from . import rounds
from .rounds import ROUND, ids, run


def test_five_members_sum_to_the_plain_sum() -> None:
    r, survivors = run(5, 200, degree=4, threshold=3)
    assert survivors == ids(r)
    assert unmask(r.keys, r.masked, r.reveals, 3, ROUND) == r.plain_sum(survivors)


def test_dropouts_after_sharing_and_after_masking_leave_the_survivors_sum() -> None:
    r = rounds.setup(6, 200, degree=5)
    after_share, after_mask = ids(r)[1], ids(r)[4]
    rounds.advertise_and_share(r, 3)
    rounds.mask_all(r, absent=[after_share])
    r.masked.pop(after_mask)  # its masked input came, but not its reveal: the caller counts it as dropped
    survivors = [u for u in ids(r) if u not in (after_share, after_mask)]
    r.reveals = [r.members[u].reveal(r.bundles, survivors, [after_share, after_mask]) for u in survivors]
    assert unmask(r.keys, r.masked, r.reveals, 3, ROUND) == r.plain_sum(survivors)


def test_a_member_that_never_shared_is_not_masked_with() -> None:
    r, survivors = run(5, 50, degree=4, threshold=3, no_share=[rounds.member_ids(5)[0]])
    assert len(survivors) == 4
    assert all(len(m.message.neighbours) == 3 for m in r.masked.values())
    assert unmask(r.keys, r.masked, r.reveals, 3, ROUND) == r.plain_sum(survivors)


def test_too_few_reveals_is_an_error_with_its_reason() -> None:
    r, _ = run(5, 20, degree=4, threshold=3)
    with pytest.raises(SecAggError) as err:
        unmask(r.keys, r.masked, r.reveals[:2], 3, ROUND)
    assert err.value.reason is Reason.SECAGG_TOO_FEW_SHARES


def test_a_liar_is_detected_and_the_sum_is_still_right() -> None:
    r, survivors = run(6, 50, degree=5, threshold=3)
    liar = r.reveals[2]
    forged = tuple(RevealedShare(s.owner, s.share[:8] + "00" * 32 + s.share[72:]) for s in liar.seeds)
    r.reveals[2] = dataclasses.replace(liar, seeds=forged)
    report = unmask_report(r.keys, r.masked, r.reveals, 3, ROUND)
    assert report.total == r.plain_sum(survivors)
    assert report.inconsistent == {liar.client}


def test_a_liar_among_exactly_threshold_shares_makes_unmask_fail() -> None:
    r, _ = run(4, 10, degree=3, threshold=3)
    liar = r.reveals[0]
    r.reveals = [dataclasses.replace(liar, seeds=tuple(RevealedShare(s.owner, s.share[:-64] + "00" * 32)
                                                       for s in liar.seeds)), *r.reveals[1:3]]
    with pytest.raises(SecAggError) as err:
        unmask(r.keys, r.masked, r.reveals, 3, ROUND)
    assert err.value.reason is Reason.SECAGG_BAD_SHARE


def test_a_tampered_share_is_not_masked_with_so_the_round_stays_consistent() -> None:
    r = rounds.setup(5, 30, degree=4)
    rounds.advertise_and_share(r, 3)
    victim, sender = ids(r)[0], ids(r)[1]
    bundle = r.bundles[sender]
    bad = tuple(EncryptedShare(s.recipient, s.ciphertext[:-2] + ("00" if s.ciphertext[-2:] != "00" else "01"))
                if s.recipient == victim else s for s in bundle.shares)
    rounds.mask_all(r, bundles={victim: {**r.bundles, sender: dataclasses.replace(bundle, shares=bad)}})
    assert sender not in r.masked[victim].message.neighbours
    survivors = rounds.reveal_all(r)
    assert sender not in survivors  # it masked with the victim, which did not mask back
    assert unmask(r.keys, r.masked, r.reveals, 3, ROUND) == r.plain_sum(survivors)


def test_secagg_plus_degree_4_of_10_with_a_dropout() -> None:
    r, survivors = run(10, 100, degree=4, threshold=3, no_mask=[rounds.member_ids(10)[0]])
    assert len(survivors) == 9
    assert all(len(m.message.neighbours) <= 4 for m in r.masked.values())
    assert unmask(r.keys, r.masked, r.reveals, 3, ROUND) == r.plain_sum(survivors)


def test_an_honest_member_never_reveals_both_secrets_of_one_member() -> None:
    r, survivors = run(5, 5, degree=4, threshold=3)
    member, other = r.members[survivors[0]], survivors[1]
    with pytest.raises(SecAggError) as err:
        member.reveal(r.bundles, [u for u in survivors if u != other], [other])
    assert err.value.reason is Reason.SECAGG_REFUSED
    again = member.reveal(r.bundles, survivors, [])  # the same kind again is fine
    assert {s.owner for s in again.seeds} == set(survivors)


@pytest.mark.parametrize("case", ["overlap", "not_a_survivor", "too_few"])
def test_an_honest_member_refuses_a_dangerous_reveal(case: str) -> None:
    r = rounds.setup(5, 5, degree=4)
    rounds.advertise_and_share(r, 3)
    rounds.mask_all(r)
    everyone = ids(r)
    me = everyone[0]
    asks = {"overlap": (everyone, everyone[1:2]), "not_a_survivor": (everyone[1:], [me]),
            "too_few": ([me, everyone[1]], everyone[2:])}[case]
    with pytest.raises(SecAggError) as err:
        r.members[me].reveal(r.bundles, *asks)
    assert err.value.reason is Reason.SECAGG_REFUSED


def test_a_member_reveals_nothing_before_masking() -> None:
    r = rounds.setup(3, 5, degree=2)
    rounds.advertise_and_share(r, 2)
    with pytest.raises(SecAggError, match="before masking"):
        r.members[ids(r)[0]].reveal(r.bundles, ids(r), [])


def test_sharing_needs_threshold_members() -> None:
    r = rounds.setup(3, 5, degree=2)
    r.keys = {u: m.keys() for u, m in r.members.items()}
    with pytest.raises(SecAggError) as err:
        r.members[ids(r)[0]].share(r.keys, 4)
    assert err.value.reason is Reason.SECAGG_TOO_FEW_SHARES


def test_unmask_refuses_an_inconsistent_survivor_set() -> None:
    r = rounds.setup(4, 5, degree=3)
    rounds.advertise_and_share(r, 2)
    a, b = ids(r)[:2]
    rounds.mask_all(r, bundles={a: {u: s for u, s in r.bundles.items() if u != b}})
    with pytest.raises(SecAggError) as err:
        unmask(r.keys, r.masked, [], 2, ROUND)
    assert err.value.reason is Reason.SECAGG_INCONSISTENT


def test_unmask_refuses_messages_of_another_round() -> None:
    r, _ = run(3, 5, degree=2, threshold=2)
    with pytest.raises(SecAggError) as err:
        unmask(r.keys, r.masked, r.reveals, 2, ROUND + 1)
    assert err.value.reason is Reason.WRONG_ROUND


@settings(max_examples=15, deadline=None)
@given(drops=st.lists(st.tuples(st.integers(0, 5), st.sampled_from(["share", "mask", "reveal"])), max_size=3))
def test_unmask_equals_the_survivors_sum_for_any_dropouts_that_leave_the_threshold(
        drops: list[tuple[int, str]]) -> None:
    who = {phase: [rounds.member_ids(6)[i] for i, p in drops if p == phase] for phase in ("share", "mask", "reveal")}
    r, survivors = run(6, 8, degree=5, threshold=3, no_share=who["share"], no_mask=who["mask"],
                       no_reveal=who["reveal"])
    if len(r.reveals) < 3:
        with pytest.raises(SecAggError):
            unmask(r.keys, r.masked, r.reveals, 3, ROUND)
        return
    assert unmask(r.keys, r.masked, r.reveals, 3, ROUND) == r.plain_sum(survivors)
