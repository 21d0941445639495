"""Markdown tables of bench rows, as docs/performance.md shows them (`--markdown`)."""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any

LEVER_COLUMNS = (("lever", "lever"), ("scales", "scales in/param"), ("logrows", "logrows"), ("setup_s", "setup s"),
                 ("pk_mb", "pk MB"), ("prove_s", "prove s"), ("prove_cpu_s", "prove CPU s"),
                 ("peak_rss_mb", "peak RSS MB"), ("verify_s", "verify s"), ("proof_bytes", "proof bytes"),
                 ("counts_equal", "proven = float"))


def markdown_table(rows: Sequence[dict[str, Any]], columns: Sequence[tuple[str, str]] = LEVER_COLUMNS) -> str:
    """One row per dict; a row with an ``error`` shows it in place of the figures."""
    lines = ["| " + " | ".join(title for _, title in columns) + " |", "|" + "---|" * len(columns)]
    for row in rows:
        if "error" in row:
            cells = [str(row.get(columns[0][0], "")), f"refused: {row['error']}"] + [""] * (len(columns) - 2)
        else:
            cells = [_cell(row.get(key)) for key, _ in columns]
        lines.append("| " + " | ".join(cells) + " |")
    return "\n".join(lines)


def _cell(value: Any) -> str:
    if value is None:
        return "–"
    if isinstance(value, bool):
        return "yes" if value else "**no**"
    if isinstance(value, list):
        return "/".join(str(v) for v in value)
    if isinstance(value, float):
        return f"{value:.3g}" if value < 1 else f"{value:.1f}"
    return str(value)
