"""What only a real nats-server shows: file storage across a server restart, stream settings, the launcher."""

from __future__ import annotations

import asyncio
import dataclasses
from pathlib import Path

import pytest
from nats.js import api
from zkpot.bus import BusError, BusUnavailable, JetStreamBus
from zkpot.bus.api import ConsumerState
from zkpot.bus.subjects import EVENTS, JOBS, LAYOUT, ROUND_OPEN, Layout, Retention
from zkpot.infra.nats import NatsServer
from zkpot.infra.ports import free_port

from tests.fixtures.nats import FETCH_WAIT_S, reset_streams
from tests.integration.bus.support import Recorder, eventually, settled

pytestmark = pytest.mark.integration


async def test_streams_are_file_backed_with_the_layout_settings(jetstream_bus: JetStreamBus) -> None:
    events = (await jetstream_bus.js.stream_info(EVENTS)).config
    jobs = (await jetstream_bus.js.stream_info(JOBS)).config
    assert (events.storage, events.retention) == (api.StorageType.FILE, api.RetentionPolicy.LIMITS)
    assert (jobs.storage, jobs.retention) == (api.StorageType.FILE, api.RetentionPolicy.WORK_QUEUE)
    assert events.duplicate_window == LAYOUT.stream(EVENTS).duplicate_window_s == 600
    assert set(events.subjects or []) == set(LAYOUT.stream(EVENTS).patterns)


async def test_ensure_streams_updates_settings_and_refuses_a_retention_change(jetstream_bus: JetStreamBus) -> None:
    events = LAYOUT.stream(EVENTS)
    shorter = Layout((dataclasses.replace(events, duplicate_window_s=120.0),))
    await JetStreamBus(jetstream_bus.nc, shorter).ensure_streams()
    assert (await jetstream_bus.js.stream_info(EVENTS)).config.duplicate_window == 120
    as_queue = Layout((dataclasses.replace(events, retention=Retention.WORK_QUEUE),))
    with pytest.raises(BusError, match=EVENTS):
        await JetStreamBus(jetstream_bus.nc, as_queue).ensure_streams()


async def test_durable_consumer_settings(jetstream_bus: JetStreamBus) -> None:
    await jetstream_bus.subscribe([ROUND_OPEN], "trainer-0", Recorder(), ack_wait_s=45, max_deliver=7)
    config = (await jetstream_bus.js.consumer_info(EVENTS, "trainer-0")).config
    assert (config.durable_name, config.ack_policy, config.deliver_policy) == (
        "trainer-0", api.AckPolicy.EXPLICIT, api.DeliverPolicy.ALL)
    assert (config.ack_wait, config.max_deliver, config.filter_subjects) == (45, 7, [ROUND_OPEN])


async def test_a_server_restart_keeps_streams_consumers_and_running_subscriptions(tmp_path: Path) -> None:
    server = NatsServer(tmp_path).start()
    bus = await JetStreamBus.connect(server.url, fetch_wait_s=FETCH_WAIT_S)
    try:
        await bus.ensure_streams()
        rec = Recorder()
        await bus.subscribe(ROUND_OPEN, "validator-1", rec)
        await bus.publish(ROUND_OPEN, {"round": 1}, "round-1")
        assert (await rec.next()).msg_id == "round-1"
        await settled(bus, EVENTS, "validator-1")  # the ack has landed: a restart now must not bring round-1 back

        await asyncio.to_thread(server.restart)

        async def published() -> bool:
            try:
                await bus.publish(ROUND_OPEN, {"round": 2}, "round-2")
            except BusUnavailable:  # the client is still reconnecting
                return False
            return True

        await eventually(published)
        assert (await rec.next()).msg_id == "round-2"
        await settled(bus, EVENTS, "validator-1")
        assert rec.ids() == ["round-1", "round-2"]
        assert (await bus.js.stream_info(EVENTS)).state.messages == 2
    finally:
        await bus.close()
        server.stop()


async def test_stream_contents_survive_a_server_stop_and_start(tmp_path: Path) -> None:
    server = NatsServer(tmp_path).start()
    try:
        bus = await JetStreamBus.connect(server.url)
        await bus.ensure_streams()
        await bus.publish(ROUND_OPEN, {"round": 1}, "round-1")
        await bus.close()
        server.stop()
        assert not server.running
        server.start()
        bus = await JetStreamBus.connect(server.url)
        assert await bus.consumer_state(EVENTS, "new-reader") == ConsumerState(pending=1, ack_pending=0)
        assert await bus.publish(ROUND_OPEN, {"round": 1}, "round-1") is False  # the dedupe window survived too
        await bus.close()
    finally:
        server.stop()


def test_a_taken_port_fails_start_with_the_server_log(nats_server: NatsServer, tmp_path: Path) -> None:
    clash = NatsServer(tmp_path, port=nats_server.port)
    with pytest.raises(BusError, match="exited"):
        clash.start(timeout_s=10)
    assert not clash.running


async def test_connecting_to_no_server_is_unavailable() -> None:
    with pytest.raises(BusUnavailable, match="cannot connect"):
        await JetStreamBus.connect(f"nats://127.0.0.1:{free_port()}", timeout_s=1)


async def test_a_message_in_flight_when_its_consumer_died_comes_back_before_later_ones(nats_url: str) -> None:
    """An ordered consumer is a state machine: a crash must not let a later message overtake the one in flight."""
    first = await JetStreamBus.connect(nats_url, name="doomed", fetch_wait_s=FETCH_WAIT_S)
    await reset_streams(first)
    stuck = asyncio.Event()

    async def hang(_: object) -> None:
        stuck.set()
        await asyncio.Event().wait()  # never acks: the process "dies" with the message in flight

    await first.subscribe(ROUND_OPEN, "validator-9", hang, ack_wait_s=2)
    await first.publish(ROUND_OPEN, {"round": 1}, "round-1")
    await first.publish(ROUND_OPEN, {"round": 2}, "round-2")
    async with asyncio.timeout(15):
        await stuck.wait()
    await first.nc.close()  # no drain, no ack: like SIGKILL
    second = await JetStreamBus.connect(nats_url, name="restarted", fetch_wait_s=FETCH_WAIT_S)
    try:
        rec = Recorder()
        await second.subscribe(ROUND_OPEN, "validator-9", rec, ack_wait_s=2)
        assert [(await rec.next()).msg_id, (await rec.next()).msg_id] == ["round-1", "round-2"]
    finally:
        await second.close()
