"""The network under load: where it is (NATS, gateway, database, metrics), its genesis, and the member keys the
load test plays; read from a devnet folder, given piece by piece (a cluster), or a devnet the load test starts.
"""

from __future__ import annotations

import contextlib
import dataclasses
import json
import re
from collections.abc import Callable, Iterator
from pathlib import Path
from typing import Any

from zkpot.bus.parties import LOADTEST
from zkpot.domain import Genesis, SigningKey
from zkpot.errors import InputError
from zkpot.task import nkey_file_name, read_genesis


def _alive() -> None:
    """A target that cannot tell whether its services live (a cluster: Kubernetes restarts them)."""


@dataclasses.dataclass
class Target:
    label: str
    nats_url: str
    gateway_url: str
    genesis: Genesis
    keys: dict[int, SigningKey]  # client index -> the key the load test signs with
    database_url: str | None = None
    metrics: dict[str, str] = dataclasses.field(default_factory=dict)  # instance -> /metrics URL
    pids: dict[str, int] = dataclasses.field(default_factory=dict)  # instance -> local pid (resource use)
    circuit_dir: Path | None = None
    check_alive: Callable[[], None] = _alive
    nkey_file: Path | None = None  # the `loadtest` NATS identity's seed, where the network authenticates

    def players(self, clients: int) -> list[tuple[int, SigningKey]]:
        """The first ``clients`` members this target lets the load test play, by client index."""
        if clients < 1:
            raise InputError("the load test needs at least one client")
        if len(self.keys) < clients:
            raise InputError(f"{clients} clients asked for, but only {len(self.keys)} member keys are playable "
                             f"({self.label})")
        return sorted(self.keys.items())[:clients]


def read_client_keys(folder: Path, genesis: Genesis, indices: list[int]) -> dict[int, SigningKey]:
    """``client-<i>.key`` for each index, checked against the genesis registry."""
    keys: dict[int, SigningKey] = {}
    for i in indices:
        path = folder / f"client-{i}.key"
        try:
            key = SigningKey.from_hex(path.read_text().strip())
        except FileNotFoundError as e:
            raise InputError(f"no key file {path}") from e
        except ValueError as e:
            raise InputError(f"{path} does not hold an Ed25519 seed: {e}") from e
        if i >= len(genesis.clients) or genesis.clients[i] != key.public_hex:
            raise InputError(f"{path} is not client {i} of the genesis registry")
        keys[i] = key
    return keys


def idle_members(genesis: Genesis, pids: dict[str, Any]) -> list[int]:
    """Members with no trainer process in a devnet (``trainer-<i>`` in its state file)."""
    trained = {int(m[1]) for name in pids if (m := re.fullmatch(r"trainer-(\d+)", name))}
    return [i for i in range(len(genesis.clients)) if i not in trained]


def from_devnet(root: Path, label: str | None = None) -> Target:
    """A devnet folder (``zkpot devnet up --detach --dir D``): its state file, genesis and keys."""
    try:
        state = json.loads((root / "state.json").read_text())
    except FileNotFoundError as e:
        raise InputError(f"no devnet state in {root} (start one with `zkpot devnet up --detach`)") from e
    genesis = read_genesis(root / "genesis.json")
    pids = {name: int(pid) for name, pid in state["pids"].items()}
    if state.get("nats_pid"):
        pids["nats-server"] = int(state["nats_pid"])
    if (pg := _postmaster_pid(state.get("postgres_dir"))) is not None:
        pids["postgres"] = pg
    keys = read_client_keys(root / "keys", genesis, idle_members(genesis, state["pids"]))
    nkey = root / "keys" / nkey_file_name(LOADTEST.name) if state.get("nats_auth") else None
    return Target(label or f"devnet {root}", state["nats_url"], state["gateway_url"], genesis, keys,
                  state.get("database_url"), dict(state.get("metrics", {})), pids,
                  Path(state["circuit_dir"]) if state.get("circuit_dir") else None, nkey_file=nkey)


def _postmaster_pid(pgdata: str | None) -> int | None:
    if not pgdata:
        return None
    try:
        return int((Path(pgdata) / "postmaster.pid").read_text().splitlines()[0])
    except (OSError, ValueError, IndexError):
        return None


def from_parts(nats_url: str, gateway_url: str, genesis: Path, keys: Path, *, first_client: int, clients: int,
               database_url: str | None = None, metrics: dict[str, str] | None = None,
               circuit_dir: Path | None = None, nkey_file: Path | None = None) -> Target:
    """A network given by its URLs (a cluster): members ``first_client .. first_client+clients-1`` are played."""
    g = read_genesis(genesis)
    indices = list(range(first_client, first_client + clients))
    return Target(f"network at {nats_url}", nats_url, gateway_url, g,
                  read_client_keys(keys, g, indices), database_url, metrics or {}, {}, circuit_dir, nkey_file=nkey_file)


@contextlib.contextmanager
def own_devnet(root: Path, system: Any, *, clients: int, validators: int, rounds: int,
               deadline_s: int) -> Iterator[Target]:
    """A fresh devnet proving with ``system`` whose members are all played by the load test (no trainer, no
    prover), stopped on exit."""
    from zkpot.cli.ui import step
    from zkpot.devnet import Devnet, DevnetConfig

    config = DevnetConfig(root=root, clients=0, idle_clients=clients, validators=validators, provers=0,
                          rounds=rounds, deadline_s=deadline_s)
    net = Devnet(config, system)
    net.prepare()
    try:
        with step(f"devnet: nats-server, PostgreSQL, gateway, producer, {validators} validators"):
            net.start_servers()
            net.start_services()
        target = from_devnet(net.root, label="own devnet")
        target.check_alive = lambda: _check(net)
        yield target
    finally:
        with step("stopping the devnet"):
            net.stop()


def _check(net: Any) -> None:
    dead = net.dead()
    if dead:
        raise InputError(f"service {dead[0].name} exited (code {dead[0].popen.returncode}); see {dead[0].log}")
