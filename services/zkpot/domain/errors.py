"""The domain's one error root, each error carrying what a consumer should do with the message behind it.

The adapter layer turns ``disposition`` into a JetStream action in exactly one place: RETRY -> nak with delay,
DROP -> record the reason and ack (or term), FAIL -> stop and alert (a bug or a misconfiguration).
"""

import enum
from typing import ClassVar

from zkpot.domain.reasons import Reason


class Disposition(enum.StrEnum):
    """What to do with the input that raised the error."""

    RETRY = "retry"
    DROP = "drop"
    FAIL = "fail"


class ZkpotError(Exception):
    """Root of every error the project raises on purpose."""

    disposition: ClassVar[Disposition] = Disposition.FAIL


class EncodingError(ZkpotError, TypeError):
    """A value cannot be canonically encoded (a float, a non-str key, an unsupported type): a caller's bug."""


class MalformedMessage(ZkpotError, ValueError):
    """A message from the wire lacks required keys or has wrong types; retrying will not fix it."""

    disposition = Disposition.DROP


class Unauthorized(MalformedMessage):
    """An event not signed by the party it must come from (or not about the member whose subject carried it):
    dropped unacted on, with ``reason`` the code that is logged and counted."""

    def __init__(self, reason: Reason, detail: str) -> None:
        super().__init__(f"{reason}: {detail}")
        self.reason = reason


class InvalidKey(ZkpotError, ValueError):
    """Key material has the wrong length or format, or does not match the message it should sign."""


class SealError(ZkpotError):
    """Sealed data could not be encrypted to, or opened with, the given key."""

    disposition = Disposition.DROP


class AggregationError(ZkpotError, ValueError):
    """Models or weights cannot be aggregated (different keys or shapes, no positive weight, unknown rule)."""


class ProofRejected(ZkpotError):
    """A proof does not verify; ``reason`` is the code to attest."""

    disposition = Disposition.DROP

    def __init__(self, reason: Reason = Reason.PROOF_INVALID, detail: str = "") -> None:
        super().__init__(f"{reason}: {detail}" if detail else str(reason))
        self.reason = reason
        self.detail = detail
