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
        ax.plot(rounds, row["accuracy"], _style(key), label=labels.short(key), linewidth=1.4)
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
    fig, axes = plt.subplots(1, len(runs), figsize=(5 * len(runs), 4), squeeze=False)
    for ax, run in zip(axes[0], runs, strict=True):
        rows = run["rows"]
        n = len(rows["zkpot"]["accuracy"])
        for key, style in (("zkpot", "b-"), ("byz_defended", "go--"), ("byz_plain", "rx:")):
            ax.plot(range(1, n + 1), rows[key]["accuracy"], style, label=labels.short(key))
        for r in rows["byz_plain"]["lie_rounds"]:
            ax.axvline(r, color="grey", alpha=0.25)
        _finish(ax, f"{run['task']}, {run['partition_label']}", n)
    fig.suptitle("Byzantine leader (N(0,1) weights) in the grey rounds")
    return _save(fig, path)


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
        ax.bar(xs, [result["costs"][t][field] for t in tasks], width, label=label)
    ax.set_xticks(range(len(tasks)), [f"{t} ({result['costs'][t]['members']} members)" for t in tasks])
    ax.set(yscale="log", ylabel="bytes per round", title="Storage per round")
    ax.legend(fontsize=8)
    ax.grid(alpha=0.3, axis="y")
    return _save(fig, path)


def _style(key: str) -> str:
    if key == "zkpot":
        return "b-"
    if key == "centralized":
        return "k--"
    return "-." if key.startswith("pofl") else ":"


def _finish(ax: Any, title: str, rounds: int) -> None:
    ax.set(xlabel="round", ylabel="global accuracy", ylim=(0, 1.02), title=title)
    ax.set_xlim(0.5, rounds + 0.5)
    ax.legend(fontsize=7, loc="lower right")
    ax.grid(alpha=0.3)


def _save(fig: Any, path: Path) -> Path:
    plt = _pyplot()
    path.parent.mkdir(parents=True, exist_ok=True)
    fig.tight_layout()
    fig.savefig(path, dpi=110)
    plt.close(fig)
    return path
