"""The prototype's Byzantine experiment, made real: every round's elected leader lies, and the chain goes on.

Three curves of global accuracy over rounds, on the same task, members and seeds:

- **honest leaders**: a devnet with per-member producers (real NATS, PostgreSQL, gateway, proofs);
- **lying leaders**: the same devnet where every producer lies when it leads (``services.byzantine``: N(0,1)
  weights, its own model, a member dropped, silence — one attack per round); the validators refuse or skip each,
  and the next member by rank proposes the honest block;
- **plain FedAvg, lies accepted**: the prototype's design without these checks, computed in-process with no proofs
  (said so in the plot): each lying leader's model becomes the global model.
"""

from __future__ import annotations

import asyncio
import dataclasses
from collections.abc import Callable, Sequence
from pathlib import Path
from typing import Any

import numpy as np

from zkpot.devnet import Devnet, DevnetConfig
from zkpot.domain.aggregation import fedavg
from zkpot.ml import data as zdata
from zkpot.ml.model import Arch, Weights, count_correct, init_weights
from zkpot.roles import client as rclient
from zkpot.services.byzantine import ATTACKS
from zkpot.task import INITIAL_MODEL_SEED
from zkpot.watch import Watcher
from zkpot.zk.system import ProofSystem


@dataclasses.dataclass(frozen=True)
class Options:
    rounds: int = 4
    clients: int = 3
    validators: int = 4
    epochs: int = 10
    attacks: tuple[str, ...] = ATTACKS
    view_timeout_s: int = 20
    deadline_s: int = 300


def run(circuit: ProofSystem, workdir: Path, options: Options,
        progress: Callable[[str], None] = lambda _: None) -> dict[str, Any]:
    """Both networks, then the undefended curve; the figures as one JSON-able dict."""
    out: dict[str, Any] = {"options": dataclasses.asdict(options), "pipeline": circuit.kind,
                           "samples": circuit.samples}
    for name, lies in (("honest", ""), ("byzantine", ",".join(options.attacks))):
        progress(f"{name} leaders: {options.rounds} rounds on a devnet")
        out[name] = _network(circuit, workdir / name, options, lies, progress)
    attacks = [options.attacks[(r - 1) % len(options.attacks)] for r in range(1, options.rounds + 1)]
    out["undefended"] = {"accuracy": undefended(circuit.arch, circuit.samples, options, attacks),
                         "attacks": attacks, "note": "plain FedAvg in-process, no proofs: each lie accepted"}
    return out


def _network(circuit: ProofSystem, root: Path, options: Options, lies: str,
             progress: Callable[[str], None]) -> dict[str, Any]:
    config = DevnetConfig(root=root, clients=options.clients, validators=options.validators, rounds=options.rounds,
                          epochs=options.epochs, deadline_s=options.deadline_s, member_producers=True,
                          byzantine=lies, view_timeout_s=options.view_timeout_s)
    net = Devnet(config, circuit)
    net.prepare()
    try:
        net.start_servers()
        net.start_services()
        watcher = Watcher(net.genesis, options.rounds, progress)
        asyncio.run(watcher.run(net.nats_url, 3600, nkey_file=net.nkey_file("watch")))
        net.write_chain(watcher.finals)
    finally:
        net.stop()
    blocks = sorted(watcher.blocks, key=lambda b: b.height)
    return {"accuracy": [b.global_accuracy for b in blocks], "views": [b.view for b in blocks],
            "round_s": [b.round_s for b in blocks], "chain": str(root / "chain.jsonl")}


def undefended(arch: Arch, samples: int, options: Options, attacks: Sequence[str]) -> list[float]:
    """Global accuracy per round when every lying leader's block is taken as it is (what the trainers of the
    devnet do, in-process: the same shards, epochs, seeds and FedAvg by training-set size)."""
    test = zdata.public_test_set(samples)
    shards = [zdata.client_shard(i, options.clients) for i in range(options.clients)]
    model = init_weights(arch, INITIAL_MODEL_SEED)
    curve = []
    for round_, attack in enumerate(attacks, start=1):
        local = [rclient.local_update(arch, model, shard, epochs=options.epochs, seed=round_ * 1000 + i)
                 for i, shard in enumerate(shards)]
        model = _accepted(arch, attack, model, local, [len(s) for s in shards], round_)
        curve.append(round(count_correct(arch, model, test) / samples, 4))
    return curve


def _accepted(arch: Arch, attack: str, previous: Weights, local: list[Weights], sizes: list[int],
              round_: int) -> Weights:
    if attack == "noise":
        rng = np.random.default_rng(round_)
        return {n: rng.standard_normal(s).astype(np.float32) for n, s in arch.shapes().items()}
    if attack in ("own_model", "silent"):  # its stale model kept, or no block: the model carries over
        return previous
    if attack == "drop_member":
        return fedavg(local[1:], [float(n) for n in sizes[1:]])
    return fedavg(local, [float(n) for n in sizes])


def plot(result: dict[str, Any], path: Path) -> Path:
    import matplotlib

    matplotlib.use("Agg")
    import matplotlib.pyplot as plt

    fig, ax = plt.subplots(figsize=(7, 4))
    rounds = range(1, len(result["honest"]["accuracy"]) + 1)
    ax.plot(rounds, result["honest"]["accuracy"], "o-", label="honest leaders (network, real proofs)")
    ax.plot(rounds, result["byzantine"]["accuracy"], "s--", label="every leader lies (network, real proofs)")
    ax.plot(rounds, result["undefended"]["accuracy"], "x:", label="plain FedAvg, lies accepted (in-process, no proofs)")
    for r, attack in zip(rounds, result["undefended"]["attacks"], strict=True):
        ax.annotate(attack, (r, 0.02), ha="center", fontsize=8, color="grey")
    ax.set(xlabel="round", ylabel="global accuracy (public test samples)", ylim=(0, 1.02), xticks=list(rounds),
           title=f"Byzantine leaders: {result['options']['clients']} members, {result['pipeline']} proofs")
    ax.legend(loc="center right", fontsize=8)
    ax.grid(alpha=0.3)
    path.parent.mkdir(parents=True, exist_ok=True)
    fig.tight_layout()
    fig.savefig(path, dpi=120)
    plt.close(fig)
    return path
