"""The one-command local network: nats-server and PostgreSQL on free ports, genesis, and every service as its own
OS process, sharing nothing but NATS, Postgres and the gateway (an embedded content-addressed store by default).

Everything lives under one folder (``.zkpot/devnet``): the servers' data, keys, genesis, blobs, logs, the pids
(`zkpot devnet down` reads them) and, once the run ends, ``chain.jsonl`` — the finalized blocks with their
attestations and votes as the network published them, which `zkpot chain verify` audits.
"""

from __future__ import annotations

import asyncio
import concurrent.futures
import dataclasses
import json
import os
import shutil
import signal
import subprocess
import sys
import time
from collections.abc import Coroutine
from pathlib import Path
from typing import Any, TypeVar

from zkpot.bus.permissions import authorization_block
from zkpot.db.roles import READER, new_passwords, provision, write_urls
from zkpot.errors import InputError
from zkpot.infra.nats import NatsServer
from zkpot.infra.ports import free_port
from zkpot.infra.postgres import EmbeddedPostgres
from zkpot.infra.procs import terminate
from zkpot.task import Keyring, RoundParams, make_genesis, nkey_file_name, write_genesis
from zkpot.zk.system import ProofSystem

T = TypeVar("T")
STOP_ORDER = ("trainer", "prover", "validator", "block-producer", "ipfs-gateway")


@dataclasses.dataclass(frozen=True)
class DevnetConfig:
    root: Path
    clients: int = 4
    validators: int = 4
    provers: int = 1
    rounds: int = 3
    epochs: int = 20
    deadline_s: int = 600
    nats_url: str | None = None
    database_url: str | None = None
    idle_clients: int = 0  # registered in genesis but run by no trainer (tests play them by hand)
    nats_auth: bool = True  # our own nats-server lets in only the parties' nkeys (ignored with nats_url)
    member_provers: bool = False  # one prover per member (its own keys, durable prover-<m>) instead of the pool
    member_producers: bool = False  # one producer per member and secure aggregation: no trusted producer
    byzantine: str = ""  # with member producers: every producer lies when it leads (ZKPOT_BYZANTINE, e.g. "noise")
    view_timeout_s: int = 30
    grace_s: int = 5
    secagg_threshold: int = 0  # 0: more than half of each neighbourhood
    alpha: float | None = None  # non-IID: members' shards drawn Dirichlet(alpha) per class (written as .npz files)

    def __post_init__(self) -> None:
        if self.alpha is not None and self.alpha <= 0:
            raise InputError("the Dirichlet alpha must be positive")
        if min(self.validators, self.rounds) < 1 or min(self.clients, self.idle_clients, self.provers) < 0:
            raise InputError("validators and rounds must each be at least 1; clients, idle clients, provers >= 0")
        if self.clients + self.idle_clients < 1:
            raise InputError("the registry needs at least one member (clients or idle clients)")
        if self.clients and not self.provers:
            raise InputError("trainers need at least one prover")


@dataclasses.dataclass
class Proc:
    name: str
    service: str
    port: int
    popen: subprocess.Popen[bytes]
    log: Path
    extra: dict[str, str]

    def alive(self) -> bool:
        return self.popen.poll() is None


class Devnet:
    """Start, watch and stop one local network."""

    def __init__(self, config: DevnetConfig, circuit: ProofSystem) -> None:
        self.config, self.circuit = config, circuit
        self.root = config.root.resolve()
        self.nats: NatsServer | None = None
        self.pg: EmbeddedPostgres | None = None
        self.procs: list[Proc] = []
        self.keys = Keyring.generate(config.clients + config.idle_clients, config.validators,
                                     member_provers=config.member_provers, member_producers=config.member_producers)
        params = RoundParams(round_deadline_s=config.deadline_s, accuracy_floor_pct=20, grace_s=config.grace_s,
                             view_timeout_s=config.view_timeout_s, secagg_threshold=config.secagg_threshold)
        self.genesis = make_genesis(self.circuit, self.keys.public(), params)
        self.nats_url = config.nats_url or ""
        self.database_url = config.database_url or ""  # once started: the read-only reader's (reports, tests)
        self.database_urls: dict[str, str] = {}  # each service's own role (zkpot.db.roles)
        self.gateway_port = free_port()

    @property
    def gateway_url(self) -> str:
        return f"http://127.0.0.1:{self.gateway_port}"

    def prepare(self) -> None:
        """A fresh folder: the previous run's data (and its PostgreSQL files, wherever they live) are removed."""
        if self.root.exists():
            shutil.rmtree(self.root)
        shutil.rmtree(_postgres_dir(self.root), ignore_errors=True)
        (self.root / "logs").mkdir(parents=True)
        self.keys.write(self.root / "keys")
        write_genesis(self.genesis, self.root / "genesis.json")
        if self.config.alpha is not None:
            self._write_shards()

    def _write_shards(self) -> None:
        """Each trainer's own data (``ZKPOT_TRAIN_DATA``): a Dirichlet split of the task's training pool."""
        import numpy as np

        from zkpot.ml import data as zdata

        n = self.config.clients + self.config.idle_clients
        shards = zdata.partition(zdata.split(self.genesis.task)[0], n, alpha=self.config.alpha)
        (self.root / "data").mkdir()
        for i, shard in enumerate(shards):
            np.savez(self.shard_file(i), X=shard.X, y=shard.y)

    def shard_file(self, member: int) -> Path:
        return self.root / "data" / f"member-{member}.npz"

    @property
    def nats_auth(self) -> bool:
        """True when the devnet runs its own nats-server with authentication (services then get nkey seeds)."""
        return self.config.nats_auth and not self.config.nats_url

    def nkey_file(self, identity: str) -> Path | None:
        """The seed file of one NATS identity (``zkpot.bus.parties``), or None without authentication."""
        return self.root / "keys" / nkey_file_name(identity) if self.nats_auth else None

    def start_servers(self) -> None:
        """nats-server (with every party's nkey and allow-lists; streams and consumers provisioned by the
        operator) and PostgreSQL, unless URLs were given."""
        if not self.nats_url:
            self.nats = NatsServer(self.root / "nats", config=nats_config(self.keys) if self.nats_auth else None)
            self.nats.start()
            self.nats_url = self.nats.url
            if self.nats_auth:
                _run(self._provision())
        if not self.database_url:
            self.pg = EmbeddedPostgres(_postgres_dir(self.root), durable=False)
            self.pg.start()
            self.database_url = self.pg.create_database("zkpot")
        self.database_urls = provision(self.database_url, new_passwords())  # the superuser's URL, used only here
        write_urls(self.database_urls, self.root / "database")
        self.database_url = self.database_urls[READER]

    def start_services(self) -> None:
        c = self.config
        self._spawn("ipfs-gateway", "ipfs-gateway", port=self.gateway_port,
                    ZKPOT_IPFS_BACKEND="local", ZKPOT_BLOB_DIR=str(self.root / "blobs"))
        if c.member_producers:  # each member's own producer: no aggregator key anywhere
            lies = {"ZKPOT_BYZANTINE": c.byzantine} if c.byzantine else {}
            for i in range(c.clients + c.idle_clients):
                self._spawn(f"producer-{i}", "block-producer", None, ZKPOT_KEY_FILE=self._key(f"producer-{i}"),
                            ZKPOT_PRODUCER_INDEX=str(i), ZKPOT_ROUNDS=str(c.rounds), **lies)
        else:
            self._spawn("block-producer", "block-producer", ZKPOT_KEY_FILE=self._key("producer"),
                        ZKPOT_AGGREGATOR_KEY_FILE=self._key("aggregator"), ZKPOT_ROUNDS=str(c.rounds))
        for i in range(c.validators):
            self._spawn(f"validator-{i}", "validator", ZKPOT_KEY_FILE=self._key(f"validator-{i}"))
        if c.member_provers:  # each trainer's own prover, with its member's keys and seed
            for i in range(c.clients):
                self._spawn(f"prover-{i}", "prover", ZKPOT_PROVER_KEY_FILE=self._key(f"prover-{i}"),
                            ZKPOT_PROVER_SIGNING_KEY_FILE=self._key(f"prover-{i}-signer"), ZKPOT_PROVER_MEMBER=str(i))
        else:
            for i in range(c.provers):
                self._spawn(f"prover-{i}", "prover", ZKPOT_PROVER_KEY_FILE=self._key("prover"),
                            ZKPOT_PROVER_SIGNING_KEY_FILE=self._key("prover-signer"))
        for i in range(c.clients):
            data = {"ZKPOT_TRAIN_DATA": str(self.shard_file(i))} if c.alpha is not None else {}
            self._spawn(f"trainer-{i}", "trainer", None, ZKPOT_KEY_FILE=self._key(f"client-{i}"),
                        ZKPOT_CLIENT_INDEX=str(i), ZKPOT_PROVER_BOX_KEY=self.keys.prover_box(i).public_hex,
                        ZKPOT_EPOCHS=str(c.epochs), **data)
        self._write_state()

    async def _provision(self) -> list[str]:
        from zkpot.bus.jetstream import JetStreamBus
        from zkpot.bus.parties import consumer_plan
        from zkpot.bus.provision import provision

        bus = await JetStreamBus.connect(self.nats_url, name="devnet-operator", nkey_file=self.nkey_file("operator"),
                                         manage=True)
        try:
            return await provision(bus, consumer_plan(self.keys.parties()))
        finally:
            await bus.close()

    def _key(self, name: str) -> str:
        return str(self.root / "keys" / f"{name}.key")

    def _nats_identity(self, name: str, service: str) -> str:
        """The NATS identity a devnet process connects as (pool provers share the pool's; a member's own prover
        ``prover-<m>`` is its own)."""
        if (service == "prover" and self.config.member_provers) or (
                service == "block-producer" and self.config.member_producers):
            return name
        return {"block-producer": "producer", "prover": "prover"}.get(service, name)

    def service_env(self, name: str, port: int) -> dict[str, str]:
        return {
            "ZKPOT_NATS_URL": self.nats_url,
            "ZKPOT_GATEWAY_URL": self.gateway_url,
            "ZKPOT_GENESIS": str(self.root / "genesis.json"),
            "ZKPOT_CIRCUIT_DIR": str(self.circuit.root),
            "ZKPOT_HTTP_PORT": str(port),
            "ZKPOT_INSTANCE": name,
            "ZKPOT_LOG_LEVEL": "INFO",
            "RUST_LOG": "error",
        }

    def _spawn(self, name: str, service: str, port: int | None = None, **extra: str) -> Proc:
        port = port or free_port()
        env = {k: v for k, v in os.environ.items() if not k.startswith("ZKPOT_") or k == "ZKPOT_CACHE"}
        env.update(self.service_env(name, port), **extra)
        seed = self.nkey_file(self._nats_identity(name, service))
        if seed is not None and service != "ipfs-gateway":  # the gateway does not use NATS
            env["ZKPOT_NATS_NKEY_FILE"] = str(seed)
        env["ZKPOT_DATABASE_URL"] = self.database_urls[service]
        log = self.root / "logs" / f"{name}.log"
        with log.open("ab") as out:
            popen = subprocess.Popen([sys.executable, "-m", "zkpot", "serve", service], env=env,
                                     stdin=subprocess.DEVNULL, stdout=out, stderr=subprocess.STDOUT,
                                     start_new_session=True)
        proc = Proc(name, service, port, popen, log, extra)
        self.procs.append(proc)
        return proc

    def restart(self, name: str, kill: bool = True) -> Proc:
        """Kill (SIGKILL) one service process and start it again with the same settings (tests use this)."""
        old = next(p for p in self.procs if p.name == name)
        if kill:
            old.popen.kill()
        old.popen.wait()
        self.procs.remove(old)
        return self._spawn(old.name, old.service, old.port, **old.extra)

    def dead(self) -> list[Proc]:
        return [p for p in self.procs if not p.alive()]

    def _write_state(self) -> None:
        state = {"pids": {p.name: p.popen.pid for p in self.procs},
                 "nats_url": self.nats_url, "nats_auth": self.nats_auth,
                 "database_url": self.database_url, "gateway_url": self.gateway_url,
                 "metrics": {p.name: f"http://127.0.0.1:{p.port}/metrics" for p in self.procs},
                 "nats_pid": self.nats._proc.pid if self.nats and self.nats._proc else None,
                 "postgres_dir": str(self.pg.pgdata) if self.pg else None,
                 "circuit_dir": str(self.circuit.root)}
        (self.root / "state.json").write_text(json.dumps(state, indent=2) + "\n")
        (self.root / "state.json").chmod(0o600)  # the reader's password

    def stop(self, timeout_s: float = 30.0) -> None:
        for service in STOP_ORDER:
            group = [p for p in self.procs if p.service == service and p.alive()]
            for p in group:
                p.popen.send_signal(signal.SIGTERM)  # the whole group at once, then wait for each
            deadline = time.monotonic() + timeout_s
            for p in group:
                terminate(p.popen, max(0.1, deadline - time.monotonic()), signalled=True)
        if self.pg is not None:
            self.pg.stop()
            if not self.pg.base_dir.is_relative_to(self.root):  # the fallback under the temp directory
                shutil.rmtree(self.pg.base_dir, ignore_errors=True)
        if self.nats is not None:
            self.nats.stop()

    def write_chain(self, finals: list[dict[str, Any]]) -> Path:
        path = self.root / "chain.jsonl"
        path.write_text("".join(json.dumps(f, sort_keys=True) + "\n" for f in finals))
        return path


def nats_config(keys: Keyring) -> str:
    """The devnet's nats.conf: every party of ``keys`` an nkey user with its allow-lists, nobody else let in."""
    return "# written by zkpot devnet: one nkey user per party (zkpot.bus.permissions)\n" + authorization_block(
        keys.parties(), keys.nats_public())


def _run(coro: Coroutine[Any, Any, T]) -> T:
    """Run ``coro`` to completion from sync code, also when called inside a running event loop (the e2e tests)."""
    with concurrent.futures.ThreadPoolExecutor(max_workers=1) as pool:
        return pool.submit(asyncio.run, coro).result()


def _postgres_dir(root: Path) -> Path:
    """``root/postgres``, unless PostgreSQL (run as another user when we are root) could not reach it: then a
    folder under the system temp directory, named after ``root`` so a restart finds it again."""
    path = root / "postgres"
    if os.geteuid() != 0 or all(os.stat(p).st_mode & 0o001 for p in path.parents if p.exists()):
        return path
    import hashlib
    import tempfile

    tmp = Path(tempfile.gettempdir()) / f"zkpot-pg-{hashlib.sha256(str(root).encode()).hexdigest()[:12]}"
    tmp.mkdir(mode=0o755, exist_ok=True)
    tmp.chmod(0o755)
    return tmp


def down(root: Path) -> list[str]:
    """Stop a detached devnet from its state file; returns what was stopped."""
    try:
        state = json.loads((root / "state.json").read_text())
    except FileNotFoundError as e:
        raise InputError(f"no devnet state in {root}") from e
    stopped = []
    for name, pid in state["pids"].items():
        if _signal(pid, signal.SIGTERM):
            stopped.append(name)
    time.sleep(2)
    for pid in state["pids"].values():
        _signal(pid, signal.SIGKILL)
    if state.get("postgres_dir"):
        EmbeddedPostgres(Path(state["postgres_dir"]).parent).stop()
        stopped.append("postgres")
    if state.get("nats_pid") and _signal(state["nats_pid"], signal.SIGTERM):
        stopped.append("nats-server")
    return stopped


def _signal(pid: int, sig: int) -> bool:
    try:
        os.kill(pid, sig)
    except ProcessLookupError:
        return False
    return True
