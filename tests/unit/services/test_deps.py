"""The composition roots' host: a service is ready while its connections answer, and they close after it stops."""

from __future__ import annotations

import pytest
from zkpot.config import Settings
from zkpot.services.deps import Deps, Hosted


class _Recorder:
    """Stands in for the bus, gateway client, engine and worker: records the calls it gets."""

    def __init__(self, calls: list[str], name: str, fail: bool = False) -> None:
        self.calls, self.name, self.fail = calls, name, fail

    async def _call(self, what: str) -> None:
        self.calls.append(f"{self.name}.{what}")
        if self.fail:
            raise RuntimeError(f"{self.name} broke")

    async def start(self) -> None:
        await self._call("start")

    async def stop(self) -> None:
        await self._call("stop")

    async def done(self) -> None:
        await self._call("done")

    async def close(self) -> None:
        await self._call("close")

    async def dispose(self) -> None:
        await self._call("dispose")


def _deps(calls: list[str], broken_bus: bool = False) -> Deps:
    bus, gateway, engine = (_Recorder(calls, "bus", broken_bus), _Recorder(calls, "gateway"),
                            _Recorder(calls, "engine"))
    return Deps(Settings("validator", {}), "validator-0", bus, engine, gateway)  # type: ignore[arg-type]


async def test_the_connections_close_after_the_worker_stops_even_when_it_fails() -> None:
    calls: list[str] = []
    hosted = Hosted(_Recorder(calls, "worker", fail=True), _deps(calls, broken_bus=True))
    with pytest.raises(RuntimeError, match="worker broke"):
        await hosted.stop()
    assert calls == ["worker.stop", "bus.close", "gateway.close", "engine.dispose"]


async def test_readiness_is_the_connections_checks() -> None:
    calls: list[str] = []
    hosted = Hosted(_Recorder(calls, "worker"), _deps(calls))
    assert set(hosted.ready_checks()) == {"postgres", "nats", "gateway"}
    await hosted.start()
    await hosted.done()
    assert calls == ["worker.start", "worker.done"]
