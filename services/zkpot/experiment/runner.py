"""Run every comparison of an ``ExperimentConfig`` and return one JSON-able dict (also saved as run.json).

For each task and partition the same federation (shards, public samples, start model, seeds) goes through every
row: ZKPoT as the network aggregates (proofs replaced by their outcome), FL + DP-SGD at each noise, PoFL at each
of its noises, centralized training, and the Byzantine leader against the defended and the plain network. Costs
are measured once per task on the ZKPoT row's last round. With ``network_rounds`` > 0 the devnet runs too
(``zkpot.experiment.network``, imported only then).
"""

from __future__ import annotations

import json
import time
from collections.abc import Callable
from pathlib import Path
from typing import Any

from zkpot.experiment import costs, dp, federated, labels
from zkpot.experiment.centralized import centralized
from zkpot.experiment.config import ExperimentConfig
from zkpot.experiment.federation import Federation, build

Progress = Callable[[str], None]
RESULT_KEYS = ("config", "runs", "costs", "network", "wall_s")


def run(config: ExperimentConfig, *, proof_bytes: dict[str, int] | None = None, root: Path = Path("build/experiment"),
        progress: Progress = lambda _: None, network_dir: Path | None = None,
        network_from: Path | None = None) -> dict[str, Any]:
    """Every row of every task and partition; ``proof_bytes`` (by task) feed the IPFS byte counts. The network
    runs (``config.network_rounds`` > 0) are saved as ``network_dir/<task>-<partition>.json``; with
    ``network_from`` they are read from such a folder instead of run again."""
    _one_thread()
    started = time.time()
    result: dict[str, Any] = {"config": config.to_dict(), "runs": {}, "costs": {}, "network": {}}
    for task in config.tasks:
        for partition in config.partitions:
            fed = build(config, task, partition)
            result["runs"][f"{task}/{partition}"] = _rows(config, fed, partition, progress)
        result["costs"][task] = _costs(config, task, (proof_bytes or {}).get(task))
    if network_from is not None:
        result["network"] = _network_from(config, network_from)
    elif config.network_rounds > 0:
        result["network"] = _network(config, root, progress, network_dir)
    if result["network"]:
        _attach_network(config, result)
    result["wall_s"] = round(time.time() - started, 1)
    return result


def _one_thread() -> None:
    """These models are tiny: one torch thread is faster than two fighting over two shared cores."""
    import torch

    torch.set_num_threads(1)


def _rows(config: ExperimentConfig, fed: Federation, partition: str, progress: Progress) -> dict[str, Any]:
    floor, rounds = config.floor(fed.task), config.rounds
    jobs: list[tuple[str, Callable[[], dict[str, Any]]]] = [
        ("zkpot", lambda: federated.zkpot(fed, rounds, floor)),
        ("centralized", lambda: centralized(fed, rounds)),
    ]
    for noise in config.noises:
        jobs.append((labels.dp_key(noise), _bind(dp.fl_dp, fed, rounds, noise, config)))
    for noise in config.pofl_noises:
        jobs.append((labels.pofl_key(noise), _bind(dp.pofl, fed, rounds, noise, config)))
    jobs.append(("byz_defended", lambda: federated.zkpot(fed, rounds, floor, lie_every=config.byzantine_every)))
    jobs.append(("byz_plain", lambda: federated.zkpot(fed, rounds, floor, lie_every=config.byzantine_every,
                                                      defended=False)))
    rows = {}
    for key, job in jobs:
        t = time.time()
        rows[key] = {**job(), "label": labels.long(key, config.byzantine_every)}
        rows[key]["wall_s"] = round(time.time() - t, 1)
        progress(f"{fed.task}/{partition}: {key} final {rows[key]['accuracy'][-1]:.3f} ({rows[key]['wall_s']} s)")
    return {"task": fed.task, "partition": partition, "partition_label": _partition_label(config, partition),
            "samples": len(fed.public), "full_samples": len(fed.full), "floor": floor,
            "shard_sizes": [len(s) for s in fed.shards], "rows": rows}


def _bind(fn: Callable[..., dict[str, Any]], fed: Federation, rounds: int, noise: float,
          config: ExperimentConfig) -> Callable[[], dict[str, Any]]:
    return lambda: fn(fed, rounds, noise, config.max_grad_norm, config.delta)


def _partition_label(config: ExperimentConfig, partition: str) -> str:
    return "IID" if partition == "iid" else f"non-IID (Dirichlet α={config.alpha:g})"


def _costs(config: ExperimentConfig, task: str, proof_bytes: int | None) -> dict[str, Any]:
    """Bytes of one round of ``task`` with every member submitting (IID shards, the start model: the sizes of
    these encodings do not depend on the weights' values beyond a few bytes of integers)."""
    fed = build(config, task, "iid")
    models = [fed.start] * len(fed.shards)
    return costs.round_bytes(models, [len(s) for s in fed.shards], fed.start, validators=config.validators,
                             samples=len(fed.public), proof_bytes=proof_bytes)


def _network(config: ExperimentConfig, root: Path, progress: Progress, save_dir: Path | None) -> dict[str, Any]:
    from zkpot.experiment import network  # the devnet: imported only when it runs

    out = {}
    for task in config.tasks:
        for partition in config.partitions:
            t = time.time()
            net = network.run_network(task, config.alpha_of(partition), config.network_rounds,
                                      config.network_clients, config.network_epochs, root / f"{task}-{partition}",
                                      progress)
            net["epochs"], net["wall_s"] = config.network_epochs, round(time.time() - t, 1)
            out[f"{task}/{partition}"] = net
            if save_dir is not None:
                save_dir.mkdir(parents=True, exist_ok=True)
                (save_dir / f"{task}-{partition}.json").write_text(json.dumps(net, indent=1) + "\n")
    return out


def attach_network(result: dict[str, Any], folder: Path) -> dict[str, Any]:
    """``result`` (a run.json) with the network runs saved in ``folder`` joined to its rows, as a run with
    ``network_from`` would have them; the in-process rows are kept as they were computed."""
    config = ExperimentConfig.from_dict(result["config"])
    result["network"] = _network_from(config, folder)
    _attach_network(config, result)
    return result


def _network_from(config: ExperimentConfig, folder: Path) -> dict[str, Any]:
    """Network runs an earlier ``--network-rounds`` run saved (``<task>-<partition>.json`` each)."""
    from zkpot.errors import InputError

    out = {}
    for task in config.tasks:
        for partition in config.partitions:
            path = folder / f"{task}-{partition}.json"
            try:
                net = json.loads(path.read_text())
                ok = isinstance(net, dict) and net.get("task") == task and net.get("accuracy")
            except (OSError, json.JSONDecodeError) as e:
                raise InputError(f"--network-from: cannot read {path} ({e}); run with --network-rounds K") from None
            if not ok:
                raise InputError(f"--network-from: {path} is not a network run of {task}")
            out[f"{task}/{partition}"] = net
    return out


def _attach_network(config: ExperimentConfig, result: dict[str, Any]) -> None:
    """Each network run beside its in-process rows; its measured proof size into the IPFS bytes of its task
    when no size was supplied."""
    for key, net in result["network"].items():
        if key in result["runs"]:
            result["runs"][key]["network"] = net
            net["replica"] = _replica(config, key, net)
        task = key.split("/")[0]
        if net.get("proof_bytes") and not result["costs"][task]["proofs_included"]:
            result["costs"][task] = _costs(config, task, int(net["proof_bytes"]))


def _replica(config: ExperimentConfig, key: str, net: dict[str, Any]) -> dict[str, Any]:
    """The in-process ZKPoT row with the network run's members, epochs and rounds: what the network's curve
    should be, up to the secure aggregate's quantized decoding (proofs replaced by their outcome)."""
    import dataclasses

    task, partition = key.split("/")
    epochs = int(net.get("epochs", config.network_epochs))
    same = dataclasses.replace(config, clients=int(net["clients"]), epochs=epochs)
    fed = build(same, task, partition)
    return federated.zkpot(fed, len(net["accuracy"]), same.floor(task))


def save(result: dict[str, Any], path: Path) -> Path:
    path.parent.mkdir(parents=True, exist_ok=True)
    path.write_text(json.dumps(result, indent=1, sort_keys=False) + "\n")
    return path


def load(path: Path) -> dict[str, Any]:
    from zkpot.errors import InputError

    try:
        result = json.loads(path.read_text())
    except FileNotFoundError:
        raise InputError(f"no such run file: {path} (write one with `zkpot experiment`)") from None
    except (OSError, json.JSONDecodeError) as e:
        raise InputError(f"{path} is not a run.json written by `zkpot experiment`: {e}") from None
    missing = [k for k in RESULT_KEYS if not isinstance(result, dict) or k not in result]
    if missing:
        raise InputError(f"{path} lacks {', '.join(missing)}: not a run.json written by `zkpot experiment`")
    return dict(result)
