"""A service's connections against a real nats-server and PostgreSQL: connect, readiness, close."""

from __future__ import annotations

import pytest
from zkpot.config import Settings
from zkpot.db import ValidatorRepo, current_revision, head_revision
from zkpot.db.roles import provision
from zkpot.services.deps import connect

pytestmark = pytest.mark.integration


async def test_connect_migrates_answers_the_checks_and_closes(database_url: str, nats_url: str,
                                                              unused_tcp_port: int) -> None:
    settings = Settings("validator", {"ZKPOT_DATABASE_URL": database_url, "ZKPOT_NATS_URL": nats_url,
                                      "ZKPOT_GATEWAY_URL": f"http://127.0.0.1:{unused_tcp_port}"})
    deps = await connect(settings)
    try:
        assert await current_revision(database_url, "validator") == head_revision("validator")
        checks = {name: await check() for name, check in deps.checks().items() if name != "gateway"}
        assert checks == {"postgres": True, "nats": True}
        assert await ValidatorRepo(deps.engine).latest_final("ab" * 32) is None  # the root's SQL store works
        with pytest.raises(OSError):
            await deps.checks()["gateway"]()  # nothing listens there: /readyz counts this as not ready
    finally:
        await deps.close()
    assert deps.bus.nc.is_closed


async def test_a_service_connects_and_migrates_as_its_own_role(database_url: str, nats_url: str, role_prefix: str,
                                                               role_passwords: dict[str, str],
                                                               unused_tcp_port: int) -> None:
    """As in production: the admin provisioned the roles; the service's URL names its role, which owns its schema
    and nothing else."""
    urls = provision(database_url, role_passwords, prefix=role_prefix)
    settings = Settings("validator", {"ZKPOT_DATABASE_URL": urls["validator"], "ZKPOT_NATS_URL": nats_url,
                                      "ZKPOT_GATEWAY_URL": f"http://127.0.0.1:{unused_tcp_port}"})
    deps = await connect(settings)
    try:
        assert await current_revision(urls["validator"], "validator") == head_revision("validator")
        assert await ValidatorRepo(deps.engine).latest_final("ab" * 32) is None
        assert await deps.checks()["postgres"]()
    finally:
        await deps.close()
