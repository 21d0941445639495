"""The one error of secure aggregation, with the reason code a caller records."""

from zkpot.domain.errors import Disposition, ZkpotError
from zkpot.domain.reasons import Reason


class SecAggError(ZkpotError, ValueError):
    """A secure-aggregation step cannot go on: too few or bad shares, a bad key, inconsistent neighbour lists, or a
    request an honest member must refuse. ``reason`` is the code to record; the round's inputs are dropped."""

    disposition = Disposition.DROP

    def __init__(self, reason: Reason, detail: str) -> None:
        super().__init__(f"{reason}: {detail}")
        self.reason = reason
        self.detail = detail
