"""Composition roots: each service's parts wired from its settings. Nothing else imports adapters and services."""

from __future__ import annotations

import asyncio
import os
import signal
from collections.abc import Awaitable, Callable

from zkpot.config import Settings
from zkpot.db import ProducerRepo, ProverRepo, TrainerRepo, ValidatorRepo
from zkpot.domain import BoxKeyPair, Genesis, SigningKey
from zkpot.metrics import Metrics
from zkpot.ml import data as zdata
from zkpot.services import deps as d
from zkpot.services.runtime import Service, serve, setup_logging
from zkpot.zk import registry
from zkpot.zk.system import ProofSystem


async def build_trainer(s: Settings, m: Metrics) -> Service:
    import torch  # one thread each: a devnet runs several trainers on a few cores
    from zkpot.services.masking import MaskingMember
    from zkpot.services.trainer import Trainer

    torch.set_num_threads(1)
    genesis = d.genesis(s)
    index = s.int("ZKPOT_CLIENT_INDEX")
    data = s.get("ZKPOT_TRAIN_DATA")
    shard = zdata.load_npz(s.path("ZKPOT_TRAIN_DATA"), genesis.task) if data else zdata.client_shard(
        index, len(genesis.clients), task=genesis.task)
    deps = await d.connect(s)
    key, repo = SigningKey.from_hex(s.secret_hex("ZKPOT_KEY_FILE")), TrainerRepo(deps.engine)
    masking = MaskingMember(deps.bus, repo, deps.gateway, genesis, key, index, m) if genesis.producers else None
    return d.Hosted(Trainer(deps.bus, repo, deps.gateway, genesis, key, index, shard,
                            s.string("ZKPOT_PROVER_BOX_KEY"), s.int("ZKPOT_EPOCHS"), m, masking), deps)


async def build_prover(s: Settings, m: Metrics) -> Service:
    from zkpot.services.prover import Prover

    circuit = registry.load(s.path("ZKPOT_CIRCUIT_DIR"))
    genesis = d.genesis(s)
    deps = await d.connect(s)
    return d.Hosted(Prover(deps.bus, ProverRepo(deps.engine), deps.gateway, genesis, circuit,
                           BoxKeyPair.from_hex(s.secret_hex("ZKPOT_PROVER_KEY_FILE")),
                           SigningKey.from_hex(s.secret_hex("ZKPOT_PROVER_SIGNING_KEY_FILE")),
                           s.int("ZKPOT_PROVER_WORKERS"), m, member=s.get("ZKPOT_PROVER_MEMBER")), deps)


async def build_validator(s: Settings, m: Metrics) -> Service:
    from zkpot.services.validator import Validator

    circuit = registry.load(s.path("ZKPOT_CIRCUIT_DIR"))
    genesis = _checked_genesis(s, circuit)
    deps = await d.connect(s)
    commit = circuit.commit_message if genesis.producers else None
    return d.Hosted(Validator(deps.bus, ValidatorRepo(deps.engine), deps.gateway, genesis,
                              SigningKey.from_hex(s.secret_hex("ZKPOT_KEY_FILE")), circuit.checker(), m, commit),
                    deps)


async def build_producer(s: Settings, m: Metrics) -> Service:
    from zkpot.services.producer import Producer

    circuit = registry.load(s.path("ZKPOT_CIRCUIT_DIR"))
    genesis = _checked_genesis(s, circuit)
    if genesis.producers:
        return await _member_producer(s, m, genesis, circuit)
    deps = await d.connect(s)
    return d.Hosted(Producer(deps.bus, ProducerRepo(deps.engine), deps.gateway, genesis, circuit,
                             SigningKey.from_hex(s.secret_hex("ZKPOT_KEY_FILE")),
                             BoxKeyPair.from_hex(s.secret_hex("ZKPOT_AGGREGATOR_KEY_FILE")), s.int("ZKPOT_ROUNDS"), m,
                             workers=s.int("ZKPOT_AGGREGATION_WORKERS")), deps)


async def _member_producer(s: Settings, m: Metrics, genesis: Genesis, circuit: ProofSystem) -> Service:
    """A member's own block producer (ZKPOT_PRODUCER_INDEX: its member's client index)."""
    from zkpot.services.byzantine import ByzantineProducer, Plan
    from zkpot.services.member_producer import MemberProducer

    deps = await d.connect(s)
    args = (deps.bus, ProducerRepo(deps.engine), deps.gateway, genesis, circuit,
            SigningKey.from_hex(s.secret_hex("ZKPOT_KEY_FILE")), s.int("ZKPOT_PRODUCER_INDEX"), s.int("ZKPOT_ROUNDS"),
            m)
    lies = s.get("ZKPOT_BYZANTINE")  # the adversary tests and experiments only
    return d.Hosted(ByzantineProducer(*args, plan=Plan.parse(lies)) if lies else MemberProducer(*args), deps)


def _checked_genesis(s: Settings, circuit: ProofSystem) -> Genesis:
    """The genesis block, once the circuit in ZKPOT_CIRCUIT_DIR is found to be the one it pins."""
    from zkpot.errors import InputError
    from zkpot.task import check_circuit

    genesis = d.genesis(s)
    problems = check_circuit(genesis, circuit)
    if problems:
        raise InputError("the circuit in ZKPOT_CIRCUIT_DIR is not the one genesis pins: " + "; ".join(problems))
    return genesis


BUILDERS: dict[str, Callable[[Settings, Metrics], Awaitable[Service]]] = {
    "trainer": build_trainer,
    "prover": build_prover,
    "validator": build_validator,
    "block-producer": build_producer,
}


async def _serve(service: str) -> int:
    settings = Settings.from_env(service)
    instance = settings.get("ZKPOT_INSTANCE") or f"{service}-{os.getpid()}"
    setup_logging(service, instance, settings.string("ZKPOT_LOG_LEVEL"))
    metrics = Metrics(service)
    if service == "ipfs-gateway":
        from zkpot.services.gateway import build_gateway

        svc, app = await build_gateway(settings, metrics)
        return await serve(settings, metrics, lambda: _ready(svc), app)
    return await serve(settings, metrics, lambda: BUILDERS[service](settings, metrics))


async def _ready(svc: Service) -> Service:
    return svc


def run(service: str) -> int:
    code = asyncio.run(_serve(service))
    signal.signal(signal.SIGTERM, signal.SIG_IGN)  # shut down already: a late SIGTERM must not change the exit code
    return code
