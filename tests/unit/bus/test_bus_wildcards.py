import pytest
from zkpot.bus.wildcards import check_durable, check_subject, check_token, collide, matches


@pytest.mark.parametrize(("pattern", "subject", "expected"), [
    ("zkpot.tx.submitted", "zkpot.tx.submitted", True),
    ("zkpot.tx.*", "zkpot.tx.submitted", True),
    ("zkpot.*", "zkpot.tx.submitted", False),
    ("zkpot.>", "zkpot.tx.submitted", True),
    ("zkpot.>", "zkpot", False),
    ("zkpot.jobs.prove.*", "zkpot.jobs.prove.m1", True),
    ("zkpot.jobs.prove.*", "zkpot.jobs.prove", False),
    ("zkpot.tx.submitted", "zkpot.tx.attested", False),
])
def test_matches(pattern: str, subject: str, expected: bool) -> None:
    assert matches(pattern, subject) is expected


@pytest.mark.parametrize(("a", "b", "expected"), [
    ("zkpot.block.*", "zkpot.block.vote", True),
    ("zkpot.block.*", "zkpot.*.vote", True),
    ("zkpot.>", "zkpot.jobs.prove.*", True),
    ("zkpot.tx.*", "zkpot.block.*", False),
    ("a.*", "a.b.c", False),
    ("a.>", "a", False),
])
def test_collide_is_symmetric(a: str, b: str, expected: bool) -> None:
    assert collide(a, b) is expected
    assert collide(b, a) is expected


@pytest.mark.parametrize("bad", ["", "a.b", "a*", ">", "a b", "a/b", "tab\t"])
def test_check_token_refuses(bad: str) -> None:
    with pytest.raises(ValueError, match="subject token"):
        check_token(bad, "member")


def test_check_token_accepts_hex_keys() -> None:
    assert check_token("ab" * 32, "member") == "ab" * 32


@pytest.mark.parametrize(("subject", "wildcards"), [
    ("zkpot.tx.*", False), ("zkpot..tx", True), ("zkpot.>.tx", True), (".zkpot", True), ("zkpot.", True), ("", True),
])
def test_check_subject_refuses(subject: str, wildcards: bool) -> None:
    with pytest.raises(ValueError, match="bad subject"):
        check_subject(subject, wildcards=wildcards)


def test_check_subject_accepts_wildcards_where_allowed() -> None:
    assert check_subject("zkpot.*.submitted", wildcards=True) == "zkpot.*.submitted"
    assert check_subject("zkpot.>", wildcards=True) == "zkpot.>"


@pytest.mark.parametrize("bad", ["", "a.b", "a b", "a*", "x" * 129])
def test_check_durable_refuses(bad: str) -> None:
    with pytest.raises(ValueError, match="durable"):
        check_durable(bad)


def test_check_durable_accepts_instance_names() -> None:
    assert check_durable("validator-2_rounds") == "validator-2_rounds"
