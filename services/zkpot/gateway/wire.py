"""The gateway's HTTP contract, shared by the app and its client: paths, blob kinds, error codes, signed uploads.

Errors travel as ``{"error": <code>, "detail": <text>}`` (413 answers add ``"size"`` and ``"max_size"``); each
storage error has one status and one code, so the client can raise the same error the gateway's store raised.

An upload is signed by its uploader's Ed25519 key: headers ``X-Zkpot-Key`` (public key, hex), ``X-Zkpot-Time``
(Unix ms), ``X-Zkpot-Round``, ``X-Zkpot-Cid`` (the body's CID, ``compute_cid``), ``X-Zkpot-Size`` (the body's
length) and ``X-Zkpot-Signature`` over ``UploadClaim.signing_bytes()``. Replaying a signed upload inside the time
window is harmless: blobs are content-addressed, so a replay stores nothing new and counts against no quota.
"""

from __future__ import annotations

import dataclasses
import enum
from collections.abc import Mapping

from zkpot.domain.encoding import is_hex
from zkpot.domain.keys import KEY_BYTES, SIGNATURE_BYTES, SigningKey, verify_signature
from zkpot.storage.errors import (
    BlobNotFound,
    BlobTooLarge,
    CidMismatch,
    InvalidCid,
    StorageError,
    StorageUnavailable,
)

BLOBS = "/v1/blobs"
STATS = "/v1/stats"


class BlobKind(enum.StrEnum):
    """What a blob is, for accounting: a proof, a sealed local model, a global model, a member's masked vector, a
    round's aggregate S, anything else."""

    PROOF = "proof"
    MODEL = "model"
    GLOBAL = "global"
    MASKED = "masked"
    AGGREGATE = "aggregate"
    OTHER = "other"


class Code(enum.StrEnum):
    INVALID_CID = "invalid_cid"
    UNKNOWN_KIND = "unknown_kind"
    TOO_LARGE = "blob_too_large"
    NOT_FOUND = "not_found"
    CID_MISMATCH = "cid_mismatch"
    UNAVAILABLE = "store_unavailable"
    STORE_ERROR = "store_error"
    INTERNAL = "internal"
    # refused uploads (see REFUSALS for their statuses)
    UNSIGNED = "unsigned"
    MALFORMED_SIGNATURE = "malformed_signature"
    UNKNOWN_UPLOADER = "unknown_uploader"
    BAD_SIGNATURE = "bad_signature"
    STALE = "stale_timestamp"
    KIND_NOT_ALLOWED = "kind_not_allowed"
    BODY_MISMATCH = "body_mismatch"
    QUOTA_EXCEEDED = "quota_exceeded"


REFUSALS: Mapping[Code, int] = {
    Code.UNSIGNED: 401,
    Code.MALFORMED_SIGNATURE: 401,
    Code.BAD_SIGNATURE: 401,
    Code.STALE: 401,
    Code.UNKNOWN_UPLOADER: 403,
    Code.KIND_NOT_ALLOWED: 403,
    Code.BODY_MISMATCH: 403,
    Code.QUOTA_EXCEEDED: 429,
}


# Most specific first: the first entry the error is an instance of decides.
STORAGE_ERRORS: tuple[tuple[type[StorageError], int, Code], ...] = (
    (InvalidCid, 400, Code.INVALID_CID),
    (BlobTooLarge, 413, Code.TOO_LARGE),
    (BlobNotFound, 404, Code.NOT_FOUND),
    (CidMismatch, 502, Code.CID_MISMATCH),
    (StorageUnavailable, 503, Code.UNAVAILABLE),
    (StorageError, 500, Code.STORE_ERROR),
)


def status_of(error: StorageError) -> tuple[int, Code]:
    """The HTTP status and error code the gateway answers for ``error``."""
    for cls, status, code in STORAGE_ERRORS:
        if isinstance(error, cls):
            return status, code
    raise AssertionError("StorageError is the last entry")  # pragma: no cover


class Header(enum.StrEnum):
    KEY = "X-Zkpot-Key"
    TIME = "X-Zkpot-Time"
    ROUND = "X-Zkpot-Round"
    CID = "X-Zkpot-Cid"
    SIZE = "X-Zkpot-Size"
    SIGNATURE = "X-Zkpot-Signature"


UPLOAD_TAG = b"zkpot-gateway-upload/v1"  # keeps these signatures apart from the same key's tx and vote signatures
MAX_INT = 2**63 - 1


class Refused(Exception):
    """An upload the gateway refuses: ``code`` is one of ``REFUSALS`` and decides the status."""

    def __init__(self, code: Code, detail: str) -> None:
        super().__init__(detail)
        self.code = code
        self.status = REFUSALS[code]


@dataclasses.dataclass(frozen=True, slots=True)
class UploadClaim:
    """What an uploader signs: this body (by CID and size), as this kind, for this round, at this time."""

    method: str
    path: str
    kind: BlobKind
    cid: str
    size: int
    time_ms: int
    round: int = 0  # 0: not tied to a round (retention never removes it)

    def signing_bytes(self) -> bytes:
        """The tag and seven fields, one per line; none of them can hold a newline."""
        fields = (self.method.upper(), self.path, str(self.kind), self.cid, str(self.size), str(self.time_ms),
                  str(self.round))
        return b"\n".join([UPLOAD_TAG, *(f.encode() for f in fields)])


@dataclasses.dataclass(frozen=True, slots=True)
class SignedUpload:
    claim: UploadClaim
    key: str  # the uploader's public key, hex
    signature: str


def sign_upload(signer: SigningKey, claim: UploadClaim) -> dict[str, str]:
    """The headers that carry ``claim`` signed by ``signer``."""
    values = {Header.KEY: signer.public_hex, Header.TIME: str(claim.time_ms), Header.ROUND: str(claim.round),
              Header.CID: claim.cid, Header.SIZE: str(claim.size), Header.SIGNATURE: signer.sign(claim.signing_bytes())}
    return {str(name): value for name, value in values.items()}


def read_upload(method: str, path: str, kind: BlobKind, headers: Mapping[str, str]) -> SignedUpload:
    """The signed claim of a request's headers; ``Refused`` (unsigned, malformed) when they do not make one.
    ``normalize_cid`` is not applied here: the app compares the signed CID with the body's canonical CID."""
    missing = [str(h) for h in Header if h not in headers]
    if missing:
        raise Refused(Code.UNSIGNED, f"uploads must be signed; missing header(s) {', '.join(missing)}")
    key, signature = headers[Header.KEY], headers[Header.SIGNATURE]
    if not is_hex(key, KEY_BYTES) or not is_hex(signature, SIGNATURE_BYTES):
        raise Refused(Code.MALFORMED_SIGNATURE, f"{Header.KEY} and {Header.SIGNATURE} must be lower-case hex of "
                                                f"{KEY_BYTES} and {SIGNATURE_BYTES} bytes")
    claim = UploadClaim(method, path, kind, headers[Header.CID], _count(headers, Header.SIZE),
                        _count(headers, Header.TIME), _count(headers, Header.ROUND))
    return SignedUpload(claim, key, signature)


def check_signed(upload: SignedUpload, known: Mapping[str, object], now_ms: int, window_ms: int) -> None:
    """``Refused`` unless ``upload`` is signed by a key in ``known``, validly, within ``window_ms`` of now."""
    if upload.key not in known:
        raise Refused(Code.UNKNOWN_UPLOADER, f"key {upload.key[:16]}… is not a registered uploader")
    if not verify_signature(upload.key, upload.claim.signing_bytes(), upload.signature):
        raise Refused(Code.BAD_SIGNATURE, "the signature does not match the request")
    skew_ms = upload.claim.time_ms - now_ms
    if abs(skew_ms) > window_ms:
        side = "ahead of" if skew_ms > 0 else "behind"
        raise Refused(Code.STALE, f"the signed time is {abs(skew_ms) // 1000} s {side} the gateway's clock "
                                  f"(at most {window_ms // 1000} s allowed)")


def _count(headers: Mapping[str, str], name: Header) -> int:
    text = headers[name]
    if not text.isascii() or not text.isdigit() or len(text) > 19 or int(text) > MAX_INT:
        raise Refused(Code.MALFORMED_SIGNATURE, f"{name} must be a non-negative integer, got {text[:32]!r}")
    return int(text)
