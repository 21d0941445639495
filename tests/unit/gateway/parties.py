"""Fixed keys for the gateway tests, the uploaders they make, and signed upload headers."""

from __future__ import annotations

import time

from zkpot.domain import SigningKey
from zkpot.gateway.access import KINDS_OF_ROLE, Uploader
from zkpot.gateway.wire import BLOBS, BlobKind, UploadClaim, sign_upload
from zkpot.storage.cid import compute_cid

MEMBER = SigningKey.from_seed(bytes([1]) * 32)
PRODUCER = SigningKey.from_seed(bytes([2]) * 32)
VALIDATOR = SigningKey.from_seed(bytes([3]) * 32)
PROVER = SigningKey.from_seed(bytes([4]) * 32)
STRANGER = SigningKey.from_seed(bytes([9]) * 32)
UPLOADERS = {
    MEMBER.public_hex: Uploader("client-0", KINDS_OF_ROLE["client"]),
    PRODUCER.public_hex: Uploader("producer", KINDS_OF_ROLE["producer"]),
    VALIDATOR.public_hex: Uploader("validator-0", KINDS_OF_ROLE["validator"]),
    PROVER.public_hex: Uploader("prover-0", KINDS_OF_ROLE["prover"]),
}
SIGNER_OF_KIND = {BlobKind.MODEL: MEMBER, BlobKind.PROOF: PROVER, BlobKind.GLOBAL: PRODUCER}


def signed(data: bytes, kind: str, signer: SigningKey | None = None, *, round: int = 0,
           time_ms: int | None = None, size: int | None = None, cid: str | None = None) -> dict[str, str]:
    """Headers of an upload of ``data`` as ``kind``; the keywords sign something other than the body."""
    known = BlobKind(kind) if kind in set(BlobKind) else BlobKind.OTHER  # the app refuses unknown kinds first
    key = signer or SIGNER_OF_KIND.get(known, MEMBER)
    claim = UploadClaim("POST", BLOBS, known, cid or compute_cid(data), len(data) if size is None else size,
                        int(time.time() * 1000) if time_ms is None else time_ms, round)
    return sign_upload(key, claim)
