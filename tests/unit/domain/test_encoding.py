import hashlib

import pytest
from zkpot.domain import EncodingError, canonical, digest, is_hex, sha256_hex


def test_canonical_sorts_keys_and_drops_whitespace() -> None:
    assert canonical({"b": 1, "a": [True, None, "x"]}) == b'{"a":[true,null,"x"],"b":1}'


def test_canonical_keeps_unicode_as_utf8() -> None:
    assert canonical({"k": "é"}) == '{"k":"é"}'.encode()


def test_tuples_encode_like_lists() -> None:
    assert canonical((1, (2, 3))) == canonical([1, [2, 3]]) == b"[1,[2,3]]"


def test_bool_stays_bool() -> None:
    assert canonical([True, 1]) == b"[true,1]"


@pytest.mark.parametrize("obj", [1.0, {"a": 0.5}, [1, [2.5]], float("nan")])
def test_floats_are_refused(obj: object) -> None:
    with pytest.raises(EncodingError, match="float"):
        canonical(obj)


def test_encoding_error_is_a_type_error() -> None:
    with pytest.raises(TypeError):
        canonical(1.5)


@pytest.mark.parametrize("obj", [{1: "a"}, {"a": {None: 1}}, {(1, 2): 3}])
def test_non_str_keys_are_refused(obj: object) -> None:
    with pytest.raises(EncodingError, match="key"):
        canonical(obj)


@pytest.mark.parametrize("obj", [b"bytes", {1, 2}, object(), {"a": bytearray(b"x")}])
def test_unsupported_types_are_refused(obj: object) -> None:
    with pytest.raises(EncodingError, match="unsupported"):
        canonical(obj)


def test_lone_surrogate_is_refused() -> None:
    with pytest.raises(EncodingError):
        canonical("\ud800")


def test_sha256_hex_and_digest() -> None:
    assert sha256_hex(b"") == "e3b0c44298fc1c149afbf4c8996fb92427ae41e4649b934ca495991b7852b855"
    assert digest({"a": 1}) == hashlib.sha256(b'{"a":1}').hexdigest()


@pytest.mark.parametrize(
    ("value", "nbytes", "expected"),
    [
        ("", None, True),
        ("00ff", None, True),
        ("00ff", 2, True),
        ("00ff", 3, False),
        ("00FF", None, False),
        ("0f0", None, False),
        ("zz", None, False),
        ("00 ff", None, False),
        ("00\n", None, False),
        (1234, None, False),
    ],
)
def test_is_hex(value: object, nbytes: int | None, expected: bool) -> None:
    assert is_hex(value, nbytes) is expected
