"""NATS authentication and authorization for real: a nats-server run with the devnet's generated config (every
party an nkey user with its allow-lists), streams and consumers provisioned by the operator."""

from __future__ import annotations

import shutil
import tempfile
from collections.abc import AsyncIterator, Awaitable, Callable, Iterator
from pathlib import Path

import nats
import nats.errors
import pytest
from zkpot.bus import BusUnavailable, JetStreamBus
from zkpot.bus.errors import NotPermitted, NotProvisioned
from zkpot.bus.parties import consumer_plan
from zkpot.bus.provision import provision
from zkpot.bus.subjects import (
    BLOCK_FINALIZED,
    BLOCK_VOTE,
    EVENTS,
    JOBS,
    PROVE_JOBS,
    ROUND_OPEN,
    TX_ATTESTED,
    TX_SUBMITTED,
    proof_done_subject,
    prove_subject,
)
from zkpot.devnet import nats_config
from zkpot.infra.nats import NatsServer
from zkpot.task import Keyring, nkey_file_name

from tests.fixtures.nats import FETCH_WAIT_S
from tests.integration.bus.support import Recorder, eventually

pytestmark = pytest.mark.integration
API_TIMEOUT_S = 1.0  # a refused request times out: keep the refusals quick

Connect = Callable[[str], Awaitable[JetStreamBus]]


@pytest.fixture(scope="module")
def keys() -> Keyring:
    return Keyring.generate(2, 2)


@pytest.fixture(scope="module")
def secured(keys: Keyring) -> Iterator[tuple[NatsServer, Path]]:
    """A nats-server with the devnet's config, and the key folder holding every party's seed."""
    root = Path(tempfile.mkdtemp(prefix="zkpot-test-nats-auth-"))
    keys.write(root / "keys")
    server = NatsServer(root / "nats", config=nats_config(keys)).start()
    try:
        yield server, root / "keys"
    finally:
        server.stop()
        shutil.rmtree(root, ignore_errors=True)


@pytest.fixture
async def connect(secured: tuple[NatsServer, Path], keys: Keyring) -> AsyncIterator[Connect]:
    """Connects as a named party; the first test provisions the streams and consumers as the operator."""
    server, folder = secured
    opened: list[JetStreamBus] = []

    async def as_party(name: str) -> JetStreamBus:
        bus = await JetStreamBus.connect(server.url, name=f"test-{name}", nkey_file=folder / nkey_file_name(name),
                                         fetch_wait_s=FETCH_WAIT_S, manage=name == "operator" or None)
        bus.js = bus.nc.jetstream(timeout=API_TIMEOUT_S)
        opened.append(bus)
        return bus

    operator = await as_party("operator")
    await provision(operator, consumer_plan(keys.parties()))
    yield as_party
    for bus in opened:
        await bus.close()


async def test_an_unauthenticated_client_is_refused(secured: tuple[NatsServer, Path]) -> None:
    with pytest.raises(BusUnavailable, match="(?i)authorization violation"):
        await JetStreamBus.connect(secured[0].url, name="anonymous", timeout_s=10)


async def test_a_client_with_an_unknown_nkey_is_refused(secured: tuple[NatsServer, Path], tmp_path: Path) -> None:
    stranger = Keyring.generate(1, 1)
    (tmp_path / "seed.nk").write_text(stranger.nats_seed("trainer-0"))
    with pytest.raises(BusUnavailable, match="(?i)authorization violation"):
        await JetStreamBus.connect(secured[0].url, name="stranger", nkey_file=tmp_path / "seed.nk", timeout_s=10)


async def test_the_operator_provisions_every_planned_consumer(connect: Connect, keys: Keyring) -> None:
    operator = await connect("operator")
    names = {EVENTS: set[str](), JOBS: set[str]()}
    for stream in names:
        names[stream] = {c.name async for c in _consumer_names(operator, stream)}
    assert names[EVENTS] == {c.durable for c in consumer_plan(keys.parties()) if c.stream == EVENTS}
    assert names[JOBS] == {"provers"}
    assert await provision(operator, consumer_plan(keys.parties())) == []  # a second run changes nothing


async def _consumer_names(bus: JetStreamBus, stream: str) -> AsyncIterator[object]:
    for info in await bus.js.consumers_info(stream):
        yield info


async def test_a_trainer_publishes_its_own_subjects_and_reads_its_own_durables(connect: Connect) -> None:
    trainer, producer, prover = await connect("trainer-0"), await connect("producer"), await connect("prover")
    await trainer.ensure_streams()  # checks, creates nothing
    rounds, jobs = Recorder(), Recorder()
    await trainer.subscribe(ROUND_OPEN, "trainer-0-rounds", rounds, ack_wait_s=120)
    await prover.subscribe(PROVE_JOBS, "provers", jobs, queue=True, ack_wait_s=60, max_deliver=5)
    assert await producer.publish(ROUND_OPEN, {"round": 1}, "round-1")
    assert (await rounds.next()).msg_id == "round-1"
    assert await trainer.publish(prove_subject("0"), {"job": 1}, "job-1")
    assert await trainer.publish(TX_SUBMITTED, {"tx": 1}, "tx-1")
    assert (await jobs.next()).subject == prove_subject("0")
    assert await prover.publish(proof_done_subject("0"), {"job": 1}, "proof-job-1")


@pytest.mark.parametrize("subject", [BLOCK_FINALIZED, prove_subject("1"), TX_ATTESTED, ROUND_OPEN])
async def test_a_trainer_cannot_publish_what_is_not_its_own(connect: Connect, subject: str) -> None:
    trainer = await connect("trainer-0")
    with pytest.raises(NotPermitted, match="(?i)permissions violation"):
        await trainer.publish(subject, {"forged": True}, "forged-1")


async def test_a_trainer_cannot_touch_streams_or_consumers(connect: Connect) -> None:
    trainer = await connect("trainer-0")
    attempts = [
        lambda: trainer.js.add_stream(name="MINE", subjects=["mine.>"]),
        lambda: trainer.js.delete_stream(EVENTS),
        lambda: trainer.js.delete_consumer(EVENTS, "trainer-1-rounds"),
        lambda: trainer.js.add_consumer(EVENTS, durable_name="trainer-0-extra", filter_subject=BLOCK_VOTE),
        lambda: trainer.js.purge_stream(EVENTS),
    ]
    for attempt in attempts:
        with pytest.raises(NotPermitted), trainer.mapped("a forbidden JetStream request"):
            await attempt()


async def test_a_trainer_cannot_bind_another_members_durable(connect: Connect) -> None:
    trainer = await connect("trainer-0")
    with pytest.raises(NotPermitted, match="trainer-1-rounds"):
        await trainer.subscribe(ROUND_OPEN, "trainer-1-rounds", Recorder(), ack_wait_s=120)


async def test_a_trainer_cannot_listen_on_subjects_or_others_inboxes(connect: Connect, keys: Keyring) -> None:
    trainer = await connect("trainer-0")
    errors: list[str] = []

    async def record(exc: Exception) -> None:
        errors.append(str(exc).lower())

    nc = await nats.connect(trainer.nc.connected_url.geturl(),  # type: ignore[union-attr]
                            nkeys_seed_str=keys.nats_seed("trainer-0"), error_cb=record, allow_reconnect=False)
    try:
        await nc.subscribe("zkpot.>")
        await nc.subscribe(f"_INBOX.{keys.nats_public()['producer']}.>")
        await eventually(lambda: _true(len(errors) >= 2))  # the refusals come as asynchronous errors
    finally:
        await nc.close()
    assert len([e for e in errors if "permissions violation for subscription" in e]) == 2, errors


async def test_a_validator_publishes_attestations_and_votes(connect: Connect) -> None:
    validator = await connect("validator-1")
    assert await validator.publish(TX_ATTESTED, {"a": 1}, "att-1")
    assert await validator.publish(BLOCK_VOTE, {"v": 1}, "vote-1")
    assert await validator.publish(BLOCK_VOTE, {"v": 1}, "vote-1") is False  # a duplicate, checked and harmless
    with pytest.raises(NotPermitted):
        await validator.publish(BLOCK_FINALIZED, {"f": 1}, "final-1")


async def test_a_missing_consumer_names_itself_and_the_provisioning_command(connect: Connect) -> None:
    operator, trainer = await connect("operator"), await connect("trainer-1")
    await operator.js.delete_consumer(EVENTS, "trainer-1-proofs")
    try:
        with pytest.raises(NotProvisioned, match=r"trainer-1-proofs on ZKPOT_EVENTS does not exist.*zkpot nats "
                                                 r"provision"):
            await trainer.subscribe(proof_done_subject("1"), "trainer-1-proofs", Recorder())
        with pytest.raises(NotProvisioned, match="differs"):  # other options than the plan's
            await trainer.subscribe(ROUND_OPEN, "trainer-1-rounds", Recorder(), ack_wait_s=5)
    finally:
        await provision(operator, consumer_plan(Keyring.generate(2, 2).parties()))


async def test_only_the_operator_changes_streams(connect: Connect) -> None:
    trainer = await connect("trainer-0")
    assert trainer.manage is False
    with pytest.raises(nats.errors.TimeoutError):
        await trainer.js.update_stream(name=EVENTS, subjects=["zkpot.>"])


async def _true(value: bool) -> bool:
    return value
