"""Who may upload what, and how much: the gateway's uploaders (from the genesis registry) and its limits.

Each party may upload only the kinds its role produces (least privilege): members their sealed models, their
masked vectors and, when they prove for themselves (a load test), proofs; provers proofs; the producer (or each
member's producer) global models and aggregates; validators nothing (they only read). Extra keys
(``ZKPOT_GATEWAY_UPLOADERS``, for a load test) upload models and proofs.
"""

from __future__ import annotations

import dataclasses
from collections.abc import Iterable, Mapping

from zkpot.domain.encoding import is_hex
from zkpot.domain.keys import KEY_BYTES
from zkpot.domain.messages import Genesis
from zkpot.errors import InputError
from zkpot.gateway.wire import BlobKind

KINDS_OF_ROLE: Mapping[str, frozenset[BlobKind]] = {
    "client": frozenset({BlobKind.MODEL, BlobKind.PROOF, BlobKind.MASKED}),
    "prover": frozenset({BlobKind.PROOF}),
    "producer": frozenset({BlobKind.GLOBAL, BlobKind.AGGREGATE}),
    "validator": frozenset(),
    "extra": frozenset({BlobKind.MODEL, BlobKind.PROOF}),
}
DEFAULT_MAX_BLOB_BYTES = 64 * 1024 * 1024


@dataclasses.dataclass(frozen=True, slots=True)
class Uploader:
    name: str  # the party, as logs and refusals name it: client-3, prover-0, producer, validator-1, extra-0
    kinds: frozenset[BlobKind]


@dataclasses.dataclass(frozen=True, slots=True)
class Limits:
    """Size caps per kind, per-uploader quotas over a rolling window (0: no quota), the signed-time window."""

    max_blob_bytes: int = DEFAULT_MAX_BLOB_BYTES  # reads, and the cap of every kind not in ``kind_max_bytes``
    kind_max_bytes: Mapping[BlobKind, int] = dataclasses.field(default_factory=dict)
    quota_bytes: int = 0
    quota_blobs: int = 0
    quota_window_s: int = 3600
    clock_skew_s: int = 300

    def cap(self, kind: BlobKind) -> int:
        return self.kind_max_bytes.get(kind, self.max_blob_bytes)


def uploaders_from_genesis(genesis: Genesis, extra: Iterable[str] = ()) -> dict[str, Uploader]:
    """Public key (hex) -> uploader, for every party of ``genesis`` and every ``extra`` key.

    ``provers`` is read when the genesis has it (the provers' Ed25519 keys); a key in several roles may upload
    what each of them may.
    """
    parties: list[tuple[str, str, str]] = [("producer", "producer", genesis.producer)] if genesis.producer else []
    parties += [(f"producer-{i}", "producer", k) for i, k in enumerate(genesis.producers)]
    parties += [(f"client-{i}", "client", k) for i, k in enumerate(genesis.clients)]
    parties += [(f"validator-{i}", "validator", k) for i, k in enumerate(genesis.validators)]
    parties += [(f"prover-{i}", "prover", k) for i, k in enumerate(genesis.provers)]
    parties += [(f"extra-{i}", "extra", k) for i, k in enumerate(extra)]
    uploaders: dict[str, Uploader] = {}
    for name, role, key in parties:
        if not is_hex(key, KEY_BYTES):
            raise InputError(f"uploader {name}: {key[:20]!r}… is not an Ed25519 public key (64 lower-case hex)")
        known = uploaders.get(key)
        kinds = KINDS_OF_ROLE[role] | (known.kinds if known else frozenset())
        uploaders[key] = Uploader(known.name if known else name, kinds)
    return uploaders


def parse_keys(text: str | None) -> list[str]:
    """A comma-separated list of public keys (``ZKPOT_GATEWAY_UPLOADERS``); blanks are ignored."""
    return [k.strip().lower() for k in (text or "").split(",") if k.strip()]
