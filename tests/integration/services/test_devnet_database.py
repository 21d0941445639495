"""The devnet's database: the embedded server's superuser provisions one role per service at start, and only the
devnet folder (mode 0600 files) holds their URLs."""

from __future__ import annotations

import stat
from pathlib import Path

import psycopg
import pytest
from zkpot.db.roles import ACCOUNTS, READER
from zkpot.devnet import Devnet, DevnetConfig
from zkpot.infra.postgres import libpq_url

from tests.unit.services.support import FakeSystem

pytestmark = pytest.mark.integration


def _user(url: str) -> str:
    with psycopg.connect(libpq_url(url)) as conn:
        return str(conn.execute("SELECT current_user").fetchall()[0][0])


class _Exited:
    """Stands in for a service process: records its environment, has already exited."""

    envs: list[dict[str, str]] = []

    def __init__(self, args: list[str], env: dict[str, str], **_: object) -> None:
        self.envs.append(env)

    def poll(self) -> int:
        return 0


def test_each_service_gets_its_own_role_and_reports_read_as_the_reader(tmp_path: Path,
                                                                       monkeypatch: pytest.MonkeyPatch) -> None:
    net = Devnet(DevnetConfig(root=tmp_path / "devnet", clients=1, validators=1, nats_url="nats://127.0.0.1:1"),
                 FakeSystem())
    net.prepare()
    try:
        net.start_servers()
        assert set(net.database_urls) == set(ACCOUNTS)
        assert {account: _user(url) for account, url in net.database_urls.items()} == {
            "trainer": "zkpot_trainer", "prover": "zkpot_prover", "validator": "zkpot_validator",
            "block-producer": "zkpot_producer", "ipfs-gateway": "zkpot_gateway", "reader": "zkpot_reader"}
        assert net.database_url == net.database_urls[READER]
        files = {p.name: p for p in (net.root / "database").iterdir()}
        assert set(files) == {f"{a}.url" for a in ACCOUNTS}
        assert {stat.S_IMODE(p.stat().st_mode) for p in files.values()} == {0o600}
        assert stat.S_IMODE((net.root / "database").stat().st_mode) == 0o700
        assert files["validator.url"].read_text() == net.database_urls["validator"]
        with monkeypatch.context() as patch:  # subprocess.Popen is everyone's: only while spawning
            patch.setattr("zkpot.devnet.subprocess.Popen", _Exited)
            net._spawn("validator-0", "validator")
            net._spawn("block-producer", "block-producer")
        assert [env["ZKPOT_DATABASE_URL"] for env in _Exited.envs] == [
            net.database_urls["validator"], net.database_urls["block-producer"]]
    finally:
        net.stop()
