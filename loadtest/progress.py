"""Progress where nobody watches a terminal: a Kubernetes Job's log, CI, a redirected stderr.

rich's spinners and bars draw nothing when stderr is not a terminal, so a long pool generation or round would be
silent for minutes. These sinks pass updates to the live display on a terminal and otherwise print plain lines:
each change of phase at once, and the running figures at most every ``every_s`` seconds.
"""

from __future__ import annotations

import math
import time
from collections.abc import Callable


def phase_of(text: str) -> str:
    """The part of a status line naming what is going on (``round 2: submitting ...`` -> ``round 2: submitting``);
    counts after the first digit past the colon are figures, not phase."""
    head, sep, rest = text.partition(": ")
    if not sep:
        return text
    words = []
    for word in rest.split():
        if any(c.isdigit() for c in word):
            break
        words.append(word)
    return f"{head}: {' '.join(words)}".rstrip()


def status_sink(update: Callable[[str], None], write: Callable[[str], None], *, terminal: bool,
                every_s: float = 10.0, clock: Callable[[], float] = time.monotonic) -> Callable[[str], None]:
    """``update`` (the live display) on a terminal; else ``write`` a line on a new phase or every ``every_s``."""
    if terminal:
        return update
    last_at, last_text, last_phase = -math.inf, "", ""

    def sink(text: str) -> None:
        nonlocal last_at, last_text, last_phase
        now, phase = clock(), phase_of(text)
        if text == last_text:
            return
        if phase != last_phase or now - last_at >= every_s:
            write(text)
            last_at, last_text, last_phase = now, text, phase

    return sink
