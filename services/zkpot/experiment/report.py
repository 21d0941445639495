"""``docs/evaluation.md`` from a run's result dict: the tables, the figures' links, the definitions and how the
numbers differ from the prototype's log. Every figure in the doc is read from the dict; only the prototype's
column (``labels.PROTOTYPE_MNIST``) is not, and it says so."""

from __future__ import annotations

from pathlib import Path
from typing import Any

from zkpot.experiment import labels

PROTO_HEAD = "Prototype's log (MNIST, 200 rounds, 20 clients; not measured here)"


def accuracy_table(result: dict[str, Any]) -> str:
    delta = result["config"]["delta"]
    head = ["Task", "Partition", "Row", "Final accuracy, public samples", "Final accuracy, full test split",
            "Best accuracy, public samples", f"ε at δ={delta:g} (worst member, all rounds)", "Run time, s", PROTO_HEAD]
    lines = [_md_row(head), _md_row(["---"] * len(head))]
    for run in result["runs"].values():
        for key, row in run["rows"].items():
            lines.append(_md_row([run["task"], run["partition_label"], row["label"],
                                  _acc(row["accuracy"][-1], run["samples"]), _acc(row["full"][-1], run["full_samples"]),
                                  _acc(max(row["accuracy"]), run["samples"]), _eps(row), f"{row['wall_s']:.1f}",
                                  _proto(run["task"], key)]))
        lines.append(_network_row(run))
    return "\n".join(lines)


def _network_row(run: dict[str, Any]) -> str:
    net = run.get("network")
    label = labels.long("network")
    if not net:
        return _md_row([run["task"], run["partition_label"], f"{label}: pending (run with `--network-rounds K`)",
                        "pending", "—", "pending", "—", "—", "—"])
    acc = net["accuracy"]
    same = "yes" if net["proven_equals_quantized"] else "NO"
    label += (f" ({net['clients']} members, {net.get('epochs', '?')} local epochs, rounds 1..{len(acc)}; "
              f"{net['proven_models']} models proven, each proven count equal to its quantized model's: {same})")
    lines = [_md_row([run["task"], run["partition_label"], label, _acc(acc[-1], net["samples"]), "—",
                      _acc(max(acc), net["samples"]), "—", f"{sum(net['round_s']):.0f}", "—"])]
    replica = net.get("replica")
    if replica:
        lines.append(_md_row([run["task"], run["partition_label"],
                              f"{labels.long('zkpot')}, with the network run's {net['clients']} members and epochs",
                              _acc(replica["accuracy"][-1], net["samples"]),
                              _acc(replica["full"][-1], run["full_samples"]),
                              _acc(max(replica["accuracy"]), net["samples"]), "—", "—", "—"]))
    return "\n".join(lines)


def costs_table(result: dict[str, Any]) -> str:
    head = ["Task", "Members", "Validators", "Ledger bytes / round", "IPFS bytes / round",
            "Chain with models in blocks, bytes / round", "Proofs in the IPFS figure"]
    lines = [_md_row(head), _md_row(["---"] * len(head))]
    for task, c in result["costs"].items():
        proofs = f"yes, {c['proof_bytes']:,} B each" if c["proofs_included"] else "no: proof size not supplied"
        lines.append(_md_row([task, str(c["members"]), str(c["validators"]), f"{c['ledger_bytes']:,}",
                              f"{c['ipfs_bytes']:,}", f"{c['model_in_block_bytes']:,}", proofs]))
    for task, net in result.get("network", {}).items():
        lines.append(_md_row([f"{task} (network, measured)", "—", "—", f"{_mean(net['ledger_bytes']):,}",
                              f"{_mean(net['ipfs_bytes']):,}", "—", f"yes, {net['proof_bytes']:,} B each"]))
    return "\n".join(lines)


def _md_row(cells: list[str]) -> str:
    return "| " + " | ".join(c.replace("|", "/") for c in cells) + " |"


def _acc(x: float, n: int) -> str:
    return f"{x:.3f} ({round(x * n)}/{n})"


def _eps(row: dict[str, Any]) -> str:
    if "noise" not in row:
        return "— (no DP)"
    return "∞" if row["epsilon_max"] is None else f"{row['epsilon_max']:.2f}"


def _proto(task: str, key: str) -> str:
    value = labels.PROTOTYPE_MNIST.get(key) if task == "mnist" else None
    return "—" if value is None else f"{value:.3f} (prototype's log)"


def _mean(xs: list[int]) -> int:
    return round(sum(xs) / len(xs)) if xs else 0


def write(result: dict[str, Any], out: Path, images: dict[str, str]) -> Path:
    """Write the doc to ``out``; ``images`` maps a caption to a PNG path relative to ``out``'s folder."""
    from zkpot.experiment import doc

    out.parent.mkdir(parents=True, exist_ok=True)
    out.write_text(doc.render(result, accuracy_table(result), costs_table(result), images))
    return out


def publish(result: dict[str, Any], out: Path) -> list[Path]:
    """Draw the PNGs into ``out``'s ``img/`` folder and write the doc at ``out``; the paths written."""
    from zkpot.experiment import plots

    img = out.parent / "img"
    images: dict[str, str] = {}
    written: list[Path] = []
    for key, run in result["runs"].items():
        path = plots.accuracy(run, img / f"evaluation-{key.replace('/', '-')}.png")
        images[f"Accuracy over rounds: {run['task']}, {run['partition_label']}"] = f"img/{path.name}"
        written.append(path)
    written.append(plots.byzantine(list(result["runs"].values()), img / "evaluation-byzantine.png"))
    images["Byzantine leader: defended vs plain FedAvg"] = "img/evaluation-byzantine.png"
    written.append(plots.costs(result, img / "evaluation-bytes.png"))
    images["Bytes per round"] = "img/evaluation-bytes.png"
    written.append(write(result, out, images))
    return written
