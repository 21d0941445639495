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


def results_table(rows: list[dict[str, Any]]) -> Any:
    """A rich table of dict rows (column order of the first row)."""
    from rich.table import Table

    table = Table(show_header=True, header_style="bold", width=max(100, err.width))
    if not rows:
        return table
    for name in rows[0]:
        table.add_column(name)
    for row in rows:
        table.add_row(*[_cell(v) for v in row.values()])
    return table


def _cell(value: Any) -> str:
    if isinstance(value, str) and len(value) > 16:
        return value[:12] + "…"
    return "-" if value is None else str(value)
