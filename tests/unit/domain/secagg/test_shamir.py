import itertools

import pytest
from zkpot.domain.reasons import Reason
from zkpot.domain.secagg import SecAggError
from zkpot.domain.secagg.prg import SeededRandomness
from zkpot.domain.secagg.shamir import SHARE_BYTES, combine, decode, recover, split

SECRET = bytes(range(100, 132))


def shares(threshold: int = 3, n: int = 5) -> dict[int, bytes]:
    return split(SECRET, threshold, list(range(1, n + 1)), SeededRandomness(b"shamir"))


def test_any_threshold_shares_rebuild_the_secret() -> None:
    all_shares = shares()
    assert all(len(s) == SHARE_BYTES for s in all_shares.values())
    for subset in itertools.combinations(all_shares.values(), 3):
        assert combine(subset, 3) == SECRET
    assert combine(list(all_shares.values()), 3) == SECRET


def test_fewer_than_threshold_is_an_error_with_its_reason() -> None:
    with pytest.raises(SecAggError) as err:
        combine(list(shares().values())[:2], 3)
    assert err.value.reason is Reason.SECAGG_TOO_FEW_SHARES


def test_fewer_than_threshold_shares_do_not_give_the_secret() -> None:
    two = list(shares().values())[:2]
    try:
        assert combine(two, 2) != SECRET
    except SecAggError as err:  # most wrong interpolations fall outside 32-byte secrets
        assert err.reason is Reason.SECAGG_BAD_SHARE


def test_duplicate_x_and_bad_bytes_are_bad_shares() -> None:
    one = shares()[1]
    for bad in ([one, one, shares()[2]], [b"\0" * SHARE_BYTES, shares()[2], shares()[3]]):
        with pytest.raises(SecAggError) as err:
            combine(bad, 3)
        assert err.value.reason is Reason.SECAGG_BAD_SHARE
    with pytest.raises(SecAggError):
        decode(one[:-1])


def test_recover_leaves_out_liars_and_names_them() -> None:
    by_name = {f"m{x}": s for x, s in shares().items()}
    by_name["m2"] = by_name["m2"][:-1] + bytes([by_name["m2"][-1] ^ 1])
    by_name["m4"] = b"junk"
    secret, liars = recover(by_name, 3, lambda s: s == SECRET)
    assert secret == SECRET and liars == {"m2", "m4"}


def test_recover_without_enough_honest_shares_fails() -> None:
    by_name = {f"m{x}": s for x, s in shares().items()}
    with pytest.raises(SecAggError) as err:
        recover(by_name, 3, lambda s: False)
    assert err.value.reason is Reason.SECAGG_BAD_SHARE


def test_split_checks_its_arguments() -> None:
    with pytest.raises(ValueError):
        split(SECRET, 4, [1, 2, 3], SeededRandomness(b"x"))
    with pytest.raises(ValueError):
        split(SECRET, 2, [1, 1, 3], SeededRandomness(b"x"))
    with pytest.raises(ValueError):
        split(SECRET[:31], 2, [1, 2], SeededRandomness(b"x"))
