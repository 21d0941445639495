"""The upload signing scheme: its bytes fixed by a vector, and each reason it refuses a request for."""

from __future__ import annotations

import dataclasses

import pytest
from zkpot.gateway.wire import (
    BLOBS,
    REFUSALS,
    BlobKind,
    Code,
    Header,
    Refused,
    UploadClaim,
    check_signed,
    read_upload,
    sign_upload,
)
from zkpot.storage.cid import compute_cid

from tests.unit.gateway.parties import MEMBER, STRANGER, UPLOADERS

NOW_MS = 1_767_225_600_000
WINDOW_MS = 300_000
CLAIM = UploadClaim("POST", BLOBS, BlobKind.PROOF, compute_cid(b"proof bytes"), 11, NOW_MS, 7)


def refusal(code: Code, claim: UploadClaim = CLAIM, headers: dict[str, str] | None = None,
            now_ms: int = NOW_MS) -> str:
    with pytest.raises(Refused) as caught:
        check_signed(read_upload(claim.method, claim.path, claim.kind, headers or sign_upload(MEMBER, claim)),
                     UPLOADERS, now_ms, WINDOW_MS)
    assert caught.value.code is code
    return str(caught.value)


def test_the_signed_bytes_and_the_signature_of_a_fixed_upload() -> None:
    assert CLAIM.signing_bytes() == (b"zkpot-gateway-upload/v1\nPOST\n/v1/blobs\nproof\n"
                                     b"bafkreifocfiu4stgckotxotm6bjbm7oojyobbzvmndnfio7rjl2gcfasvi\n11\n1767225600000\n7")
    assert sign_upload(MEMBER, CLAIM) == {
        "X-Zkpot-Key": "8a88e3dd7409f195fd52db2d3cba5d72ca6709bf1d94121bf3748801b40f6f5c",
        "X-Zkpot-Time": "1767225600000",
        "X-Zkpot-Round": "7",
        "X-Zkpot-Cid": "bafkreifocfiu4stgckotxotm6bjbm7oojyobbzvmndnfio7rjl2gcfasvi",
        "X-Zkpot-Size": "11",
        "X-Zkpot-Signature": "ae6c4b19945f503ce881383de4c38a6b3037824045a487a361baa7c752efee7d"
                             "8ca93540a49b5be353ab0196ad2d73a31e721940053400f0ee39c5e1375ce205",
    }


def test_a_signed_upload_reads_back_as_its_claim() -> None:
    upload = read_upload("POST", BLOBS, BlobKind.PROOF, sign_upload(MEMBER, CLAIM))
    assert (upload.claim, upload.key) == (CLAIM, MEMBER.public_hex)
    check_signed(upload, UPLOADERS, NOW_MS, WINDOW_MS)


@pytest.mark.parametrize("header", list(Header))
def test_a_missing_header_is_unsigned(header: Header) -> None:
    headers = sign_upload(MEMBER, CLAIM)
    del headers[header]
    assert header in refusal(Code.UNSIGNED, headers=headers)


@pytest.mark.parametrize(("header", "value"), [(Header.KEY, "ab"), (Header.KEY, MEMBER.public_hex.upper()),
                                               (Header.SIGNATURE, "00" * 63), (Header.TIME, "-1"),
                                               (Header.TIME, "1e9"), (Header.SIZE, "٣"), (Header.ROUND, "9" * 20)])
def test_malformed_headers_are_refused(header: Header, value: str) -> None:
    headers = sign_upload(MEMBER, CLAIM) | {header: value}
    refusal(Code.MALFORMED_SIGNATURE, headers=headers)


def test_an_unregistered_key_is_refused_even_with_a_valid_signature() -> None:
    assert "not a registered uploader" in refusal(Code.UNKNOWN_UPLOADER, headers=sign_upload(STRANGER, CLAIM))


@pytest.mark.parametrize("change", [{"method": "PUT"}, {"path": "/v1/blobz"}, {"kind": BlobKind.MODEL},
                                    {"cid": compute_cid(b"other")}, {"size": 12}, {"time_ms": NOW_MS + 1},
                                    {"round": 8}])
def test_a_signature_over_any_other_field_is_bad(change: dict[str, object]) -> None:
    other = sign_upload(MEMBER, dataclasses.replace(CLAIM, **change))[Header.SIGNATURE]  # type: ignore[arg-type]
    refusal(Code.BAD_SIGNATURE, headers=sign_upload(MEMBER, CLAIM) | {Header.SIGNATURE: other})


@pytest.mark.parametrize("skew_ms", [WINDOW_MS, -WINDOW_MS])
def test_a_signed_time_at_the_edge_of_the_window_is_fresh(skew_ms: int) -> None:
    claim = dataclasses.replace(CLAIM, time_ms=NOW_MS + skew_ms)
    check_signed(read_upload("POST", BLOBS, claim.kind, sign_upload(MEMBER, claim)), UPLOADERS, NOW_MS, WINDOW_MS)


@pytest.mark.parametrize(("skew_ms", "words"), [(WINDOW_MS + 1, "ahead of"), (-WINDOW_MS - 1000, "301 s behind")])
def test_a_signed_time_outside_the_window_is_stale(skew_ms: int, words: str) -> None:
    assert words in refusal(Code.STALE, dataclasses.replace(CLAIM, time_ms=NOW_MS + skew_ms))


def test_every_refusal_has_a_client_error_status() -> None:
    assert set(REFUSALS) == {Code.UNSIGNED, Code.MALFORMED_SIGNATURE, Code.UNKNOWN_UPLOADER, Code.BAD_SIGNATURE,
                             Code.STALE, Code.KIND_NOT_ALLOWED, Code.BODY_MISMATCH, Code.QUOTA_EXCEEDED}
    assert {REFUSALS[c] for c in (Code.UNSIGNED, Code.MALFORMED_SIGNATURE, Code.BAD_SIGNATURE, Code.STALE)} == {401}
    assert {REFUSALS[c] for c in (Code.UNKNOWN_UPLOADER, Code.KIND_NOT_ALLOWED, Code.BODY_MISMATCH)} == {403}
    assert REFUSALS[Code.QUOTA_EXCEEDED] == 429
