from hypothesis import given
from hypothesis import strategies as st
from zkpot.domain.secagg import MaskedInput, consistent_survivors, neighbours

from .rounds import member_ids, setup

MEMBERS = member_ids(10)


@given(st.integers(0, 12), st.binary(min_size=1, max_size=8))
def test_the_graph_is_symmetric_and_has_the_degree(degree: int, seed: bytes) -> None:
    graph = {u: neighbours(MEMBERS, u, degree, seed) for u in MEMBERS}
    assert all(u in graph[v] for u in MEMBERS for v in graph[u])
    expected = len(MEMBERS) - 1 if degree >= len(MEMBERS) - 1 else 2 * (degree // 2)
    assert all(len(n) == expected and u not in n for u, n in graph.items())


def test_the_ring_follows_the_round_seed() -> None:
    assert neighbours(MEMBERS, MEMBERS[0], 4, b"a") == neighbours(MEMBERS, MEMBERS[0], 4, b"a")
    assert any(neighbours(MEMBERS, u, 4, b"a") != neighbours(MEMBERS, u, 4, b"b") for u in MEMBERS)


def inputs(lists: dict[str, list[str]]) -> dict[str, MaskedInput]:
    return {u: MaskedInput(round=1, client=u, tx_id="00" * 32, vector_sha256="00" * 32, vector_cid="c",
                           neighbours=tuple(sorted(n))) for u, n in lists.items()}


def test_a_survivor_that_masked_with_one_who_did_not_mask_back_is_left_out() -> None:
    r = setup(4, 1, 3)
    keys = {u: m.keys() for u, m in r.members.items()}
    a, b, c, d = sorted(keys)
    masked = inputs({a: [b, c, d], b: [c, d], c: [a, b, d], d: [a, b, c]})  # b did not mask with a
    assert consistent_survivors(keys, masked) == (b, c, d)
    assert consistent_survivors(keys, inputs({a: [b], c: [d]})) == (a, c)  # b, d dropped: fine
    assert consistent_survivors({u: k for u, k in keys.items() if u != d}, inputs({a: [b], c: [d]})) == (a,)
