"""The ZKPoT rows' rounds on the real network: a devnet (NATS, PostgreSQL, gateway, per-member producers with
secure aggregation, real proofs) for ``rounds`` rounds of a task, and what its chain and blob store hold.

Per round it reports the global model's accuracy on the public test set (the block's proven ``global_correct``),
the round's wall time, the bytes on the ledger (the finalized bundle as the chain stores it: header, txs, votes)
and the bytes on IPFS (the blobs the block names: each member's proof and sealed model, the aggregate and the
global model; the masked vectors are counted over the run and spread evenly). Every proven model is opened with
its member's own key (the experimenter runs every member) and its proof's count is checked against the quantized
model's count (``zk.fast.quantized``): ``proven_equals_quantized`` is false if any differs.
"""

from __future__ import annotations

import asyncio
import json
from collections.abc import Callable
from pathlib import Path
from typing import Any

from zkpot.devnet import Devnet, DevnetConfig
from zkpot.domain import SigningKey, open_sealed
from zkpot.domain.events import Finalized
from zkpot.ml import data as zdata
from zkpot.ml.model import count_correct, weights_from_bytes
from zkpot.services.masking import own_box
from zkpot.storage.local import LocalStore
from zkpot.watch import Watcher
from zkpot.zk import registry
from zkpot.zk.fast.quantized import quantized_count
from zkpot.zk.fast.system import FastSystem


def run_network(task: str, alpha: float | None, rounds: int, clients: int, epochs: int, root: Path,
                progress: Callable[[str], None] = lambda _: None, *, validators: int = 4,
                deadline_s: int | None = None) -> dict[str, Any]:
    """``rounds`` rounds of ``task`` on a devnet in ``root``; the figures as one JSON-able dict."""
    progress(f"{task}: the fast circuit (keys derived once, then cached)")
    circuit = registry.build("fast", task=task, progress=progress)
    assert isinstance(circuit, FastSystem)
    # the round closes as soon as every member's masked vector is in, so a long deadline costs nothing; it must
    # outlast one prover proving every member in turn (an MNIST proof takes 2.5 min on a loaded 2-core machine)
    deadline = deadline_s or 300 + clients * (300 if task == "mnist" else 60)
    config = DevnetConfig(root=root, clients=clients, validators=validators, rounds=rounds, epochs=epochs,
                          deadline_s=deadline, member_producers=True, alpha=alpha)
    net = Devnet(config, circuit)
    net.prepare()
    try:
        progress(f"{task}: starting the network ({clients} members, {validators} validators)")
        net.start_servers()
        net.start_services()
        watcher = Watcher(net.genesis, rounds, progress)
        asyncio.run(watcher.run(net.nats_url, rounds * (deadline + 120), nkey_file=net.nkey_file("watch")))
        chain = net.write_chain(watcher.finals)
    finally:
        net.stop()
    return _figures(net, circuit, chain, sorted(watcher.blocks, key=lambda b: b.height))


def _figures(net: Devnet, circuit: FastSystem, chain: Path, blocks: list[Any]) -> dict[str, Any]:
    store = LocalStore(net.root / "blobs")
    test = zdata.public_test_set(net.genesis.samples, net.genesis.task)
    lines = [line for line in chain.read_text().splitlines() if line]
    finals = sorted((Finalized.from_dict(json.loads(line)) for line in lines), key=lambda f: f.block.header.height)
    size = {f.block.header.height: len(line.encode()) + 1 for f, line in zip(finals, lines, strict=True)}
    referenced, checks = [], []
    for f in finals:
        named = [f.block.header.model_cid, f.block.header.aggregate_cid]
        named += [c for tx in f.block.txs for c in (tx.proof_cid, tx.model_cid)]
        referenced.append(sum(_size(store, c) for c in named if c))
        checks += [_check(net, circuit, store, test, tx) for tx in f.block.txs]
    all_blobs = sum(p.stat().st_size for p in (net.root / "blobs").rglob("*") if p.is_file()
                    and ".tmp" not in p.parts)
    unnamed = max(0, all_blobs - sum(referenced) - _size(store, net.genesis.initial_model_cid))
    per_round_rest = unnamed // max(1, len(finals))
    proofs = [_size(store, tx.proof_cid) for f in finals for tx in f.block.txs]
    return {
        "task": net.genesis.task, "alpha": net.config.alpha, "clients": net.config.clients,
        "samples": net.genesis.samples, "arch": circuit.arch.name, "rounds": len(blocks),
        "accuracy": [b.global_accuracy for b in blocks], "round_s": [b.round_s for b in blocks],
        "views": [b.view for b in blocks], "members_per_block": [len(f.block.txs) for f in finals],
        "ledger_bytes": [size[f.block.header.height] for f in finals],
        "ipfs_bytes": [r + per_round_rest for r in referenced],
        "proof_bytes": round(sum(proofs) / len(proofs)) if proofs else 0,
        "proven_models": len(checks), "proven_equals_quantized": all(c["proven"] == c["quantized"] for c in checks),
        "checks": checks, "chain": str(chain), "test_size": len(test),
    }


def _size(store: LocalStore, cid: str) -> int:
    path = store.path_of(cid)
    return path.stat().st_size if path.is_file() else 0


def _check(net: Devnet, circuit: FastSystem, store: LocalStore, test: zdata.Dataset, tx: Any) -> dict[str, Any]:
    """A tx's proven count beside its model's quantized and float counts (the model opened with its member's key)."""
    member = list(net.genesis.clients).index(tx.client)
    key = SigningKey.from_hex((net.root / "keys" / f"client-{member}.key").read_text().strip())
    weights = weights_from_bytes(circuit.arch, open_sealed(store.path_of(tx.model_cid).read_bytes(), own_box(key)))
    return {"round": tx.round, "member": member, "proven": tx.correct,
            "quantized": quantized_count(circuit.circuit.spec, weights, test),
            "float": count_correct(circuit.arch, weights, test)}
