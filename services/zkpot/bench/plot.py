"""The prove-time and memory plot of `zkpot bench sweep` (PNG, matplotlib without a display)."""

from __future__ import annotations

from collections.abc import Sequence
from pathlib import Path
from typing import Any


def plot_sweep(rows: Sequence[dict[str, Any]], path: Path) -> Path:
    """Two panels against N: prove time (wall, and CPU seconds dashed) and peak RSS, one line per pipeline; measured
    points only (no extrapolation is drawn)."""
    import matplotlib

    matplotlib.use("Agg")
    import matplotlib.pyplot as plt

    fig, (ax_t, ax_m) = plt.subplots(1, 2, figsize=(11, 4.2))
    for name, style in (("baseline", "o-"), ("zkpot", "s-")):
        pts = sorted((r["samples"], r[name]) for r in rows if r.get(name))
        if not pts:
            continue
        label = "plain ezkl (hashed, default calibration)" if name == "baseline" else "zkpot fast pipeline"
        line = ax_t.plot([n for n, _ in pts], [m["prove_s"] for _, m in pts], style, label=f"{label}, wall")[0]
        ax_t.plot([n for n, _ in pts], [m["prove_cpu_s"] for _, m in pts], style.replace("-", "--"),
                  color=line.get_color(), alpha=0.6, label=f"{label}, CPU s")
        ax_m.plot([n for n, _ in pts], [m["peak_rss_mb"] / 1024 for _, m in pts], style, label=label)
    ax_t.set(xlabel="test samples proved (N)", ylabel="seconds", title="Prove time (shared 2-core machine)")
    ax_m.set(xlabel="test samples proved (N)", ylabel="peak RSS (GiB)", title="Prover peak memory")
    for ax in (ax_t, ax_m):
        ax.grid(alpha=0.3)
        ax.legend(fontsize="small")
    fig.tight_layout()
    path.parent.mkdir(parents=True, exist_ok=True)
    fig.savefig(path, dpi=110)
    plt.close(fig)
    return path
