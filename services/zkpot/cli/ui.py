"""Terminal output: progress on stderr (so stdout stays clean for --json), results on stdout."""

from __future__ import annotations

import json
import sys
from collections.abc import Iterator
from contextlib import contextmanager
from typing import Any

from rich.console import Console

err = Console(stderr=True, highlight=False)
out = Console(highlight=False, soft_wrap=True)


@contextmanager
def step(title: str) -> Iterator[Any]:
    """A spinner with elapsed time for a long step; yields a function that updates its text."""
    with err.status(f"[bold]{title}[/]") as status:
        yield lambda text: status.update(f"[bold]{title}[/] · {text}")
    err.print(f"[green]✓[/] {title}")


def print_json(obj: Any) -> None:
    sys.stdout.write(json.dumps(obj, sort_keys=False) + "\n")
    sys.stdout.flush()
