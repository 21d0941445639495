from hypothesis import given
from hypothesis import strategies as st
from zkpot.domain.secagg.field import R, add, lift, sub, to_field

SIGNED = st.integers(-(R // 2), R // 2)


@given(st.lists(SIGNED, max_size=20))
def test_lift_inverts_to_field_on_the_signed_range(xs: list[int]) -> None:
    assert lift(to_field(xs)) == xs
    assert all(0 <= e < R for e in to_field(xs))


@given(st.lists(st.tuples(SIGNED, SIGNED), max_size=20))
def test_add_and_sub_are_mod_r(pairs: list[tuple[int, int]]) -> None:
    a, b = to_field(p[0] for p in pairs), to_field(p[1] for p in pairs)
    assert sub(add(a, b), b) == a
    assert add(a, b) == to_field(x + y for x, y in pairs)


def test_negative_numbers_wrap_to_the_top_of_the_field() -> None:
    assert to_field([-1, 0, 1]) == [R - 1, 0, 1]
    assert lift([R - 1, R // 2, R // 2 + 1]) == [-1, R // 2, -(R // 2)]
