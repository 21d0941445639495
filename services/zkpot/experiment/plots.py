"""The evaluation's figures (matplotlib, Agg), drawn from a run's result dict alone so ``--from-json`` redraws
exactly what the run measured."""

from __future__ import annotations

from pathlib import Path
from typing import Any

from zkpot.experiment import labels

ACCURACY_ROWS = ("zkpot", "centralized")  # then the DP and PoFL rows, in the result's order


def _pyplot() -> Any:
    import matplotlib

    matplotlib.use("Agg")
    import matplotlib.pyplot as plt

    return plt


def accuracy(run: dict[str, Any], path: Path) -> Path:
    """Global accuracy over rounds of every row of one task and partition; the network's rounds as markers."""
    plt = _pyplot()
    fig, ax = plt.subplots(figsize=(8, 4.5))
    for key, row in run["rows"].items():
        if key.startswith("byz_"):
            continue
        rounds = range(1, len(row["accuracy"]) + 1)
        ax.plot(rounds, row["accuracy"], _style(key), label=labels.short(key), linewidth=1.4, marker=".")
    network = run.get("network")
    if network:
        acc = network["accuracy"]
        ax.plot(range(1, len(acc) + 1), acc, "k*", markersize=11, label="ZKPoT on the network, real proofs")
    _finish(ax, f"{run['task']}, {run['partition_label']}: accuracy on the {run['samples']} public test samples",
            len(next(iter(run["rows"].values()))["accuracy"]))
    return _save(fig, path)


def byzantine(runs: list[dict[str, Any]], path: Path) -> Path:
    """One panel per task and partition: honest ZKPoT, defended against the lying leader, and plain FedAvg."""
    plt = _pyplot()
    cols = min(2, len(runs))
    rows_ = -(-len(runs) // cols)
    fig, axes = plt.subplots(rows_, cols, figsize=(6 * cols, 4 * rows_), squeeze=False)
    for ax in axes.flat[len(runs):]:
        ax.set_visible(False)
    for ax, run in zip(axes.flat, runs, strict=False):
        rows = run["rows"]
        n = len(rows["zkpot"]["accuracy"])
        for key, style, width in (("zkpot", "b-", 4.0), ("byz_defended", "go--", 1.2), ("byz_plain", "rx:", 1.2)):
            ax.plot(range(1, n + 1), rows[key]["accuracy"], style, label=labels.short(key), linewidth=width,
                    alpha=0.5 if key == "zkpot" else 1.0)
        for r in rows["byz_plain"]["lie_rounds"]:
            ax.axvline(r, color="grey", alpha=0.45, linewidth=2)
        _finish(ax, f"{run['task']}, {run['partition_label']}", n, legend=False)
    handles, names = axes.flat[0].get_legend_handles_labels()
    fig.legend(handles, names, loc="lower center", ncol=3, fontsize=8)
    fig.suptitle("A leader proposing N(0,1) weights in the grey rounds (the defended curve lies on the honest one)")
    return _save(fig, path, bottom=0.1 / rows_)


def costs(result: dict[str, Any], path: Path) -> Path:
    """Bytes per round, log scale: ledger, IPFS and a chain that keeps the models in its blocks."""
    plt = _pyplot()
    fig, ax = plt.subplots(figsize=(7, 4))
    tasks = list(result["costs"])
    kinds = (("ledger_bytes", "ledger (this network)"), ("ipfs_bytes", "IPFS (this network)"),
             ("model_in_block_bytes", "chain with models in blocks (prototype)"))
    width = 0.8 / len(kinds)
    for k, (field, label) in enumerate(kinds):
        xs = [i + (k - 1) * width for i in range(len(tasks))]
        bars = ax.bar(xs, [result["costs"][t][field] for t in tasks], width, label=label)
        ax.bar_label(bars, labels=[_kb(result["costs"][t][field]) for t in tasks], fontsize=7)
    ax.set_xticks(range(len(tasks)), [f"{t} ({result['costs'][t]['members']} members)" for t in tasks])
    ax.set(yscale="log", ylabel="bytes per round", title="Storage per round")
    ax.legend(fontsize=8)
    ax.grid(alpha=0.3, axis="y")
    return _save(fig, path)


def _kb(n: int) -> str:
    return f"{n / 1e6:.1f} MB" if n >= 1e6 else f"{n / 1e3:.0f} kB"


def _style(key: str) -> str:
    if key == "zkpot":
        return "b-"
    if key == "centralized":
        return "k--"
    return "-." if key.startswith("pofl") else ":"


def _finish(ax: Any, title: str, rounds: int, *, legend: bool = True) -> None:
    from matplotlib.ticker import MaxNLocator

    ax.set(xlabel="round", ylabel="global accuracy", ylim=(0, 1.02), title=title)
    ax.set_xlim(0.5, rounds + 0.5)
    ax.xaxis.set_major_locator(MaxNLocator(integer=True))
    if legend:
        ax.legend(fontsize=7, loc="lower right")
    ax.grid(alpha=0.3)


def _save(fig: Any, path: Path, bottom: float = 0.0) -> Path:
    plt = _pyplot()
    path.parent.mkdir(parents=True, exist_ok=True)
    fig.tight_layout(rect=(0, bottom, 1, 1))
    fig.savefig(path, dpi=110)
    plt.close(fig)
    return path
