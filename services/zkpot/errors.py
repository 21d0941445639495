"""Errors outside the pure domain; the root is the domain's ZkpotError so there is one root."""

from __future__ import annotations

from zkpot.domain.errors import Disposition, ZkpotError

__all__ = ["InputError", "ZkpotError"]


class InputError(ZkpotError):
    """Bad input from a user or a peer: reported as one clear line, never a traceback."""

    disposition = Disposition.DROP
