"""Finding the network and the members to play: a devnet folder, keys checked against genesis; the devnet's
load-test options (idle members, no trainer, no prover)."""

import json
from pathlib import Path

import pytest
from zkpot.devnet import DevnetConfig
from zkpot.errors import InputError
from zkpot.task import Keyring, read_genesis, write_genesis

from loadtest.target import from_devnet, from_parts, idle_members, read_client_keys
from tests.unit.domain.builders import make_genesis


@pytest.fixture
def devnet_dir(tmp_path: Path) -> Path:
    keys = Keyring.generate(4, 4)
    keys.write(tmp_path / "keys")
    genesis = make_genesis(clients=tuple(k.public_hex for k in keys.clients))
    write_genesis(genesis, tmp_path / "genesis.json")
    (tmp_path / "postgres" / "pgdata").mkdir(parents=True)
    (tmp_path / "postgres" / "pgdata" / "postmaster.pid").write_text("4242\n/data\n")
    state = {"pids": {"trainer-0": 11, "validator-0": 12, "block-producer": 13}, "nats_url": "nats://h:1",
             "database_url": "postgresql+psycopg://u@h:2/zkpot", "gateway_url": "http://h:3",
             "metrics": {"validator-0": "http://h:4/metrics"}, "nats_pid": 10,
             "postgres_dir": str(tmp_path / "postgres" / "pgdata"), "circuit_dir": "/c"}
    (tmp_path / "state.json").write_text(json.dumps(state))
    return tmp_path


def test_a_devnet_folder_gives_urls_pids_and_its_idle_members(devnet_dir: Path) -> None:
    target = from_devnet(devnet_dir)
    assert (target.nats_url, target.gateway_url) == ("nats://h:1", "http://h:3")
    assert sorted(target.keys) == [1, 2, 3]  # member 0 has a trainer
    assert target.pids == {"trainer-0": 11, "validator-0": 12, "block-producer": 13, "nats-server": 10,
                           "postgres": 4242}
    assert target.database_url and target.metrics == {"validator-0": "http://h:4/metrics"}
    assert [i for i, _ in target.players(2)] == [1, 2]
    with pytest.raises(InputError, match="only 3 member keys"):
        target.players(4)


def test_idle_members_are_those_without_a_trainer() -> None:
    genesis = make_genesis()
    assert idle_members(genesis, {"trainer-1": 5, "validator-0": 6, "trainer-x": 7}) == [0, 2]


def test_a_key_that_is_not_the_registered_member_is_refused(devnet_dir: Path) -> None:
    (devnet_dir / "keys" / "client-2.key").write_text((devnet_dir / "keys" / "client-1.key").read_text())
    genesis = read_genesis(devnet_dir / "genesis.json")
    with pytest.raises(InputError, match="not client 2"):
        read_client_keys(devnet_dir / "keys", genesis, [2])
    with pytest.raises(InputError, match="no key file"):
        read_client_keys(devnet_dir / "keys", genesis, [9])


def test_a_cluster_is_given_by_parts(devnet_dir: Path) -> None:
    target = from_parts("nats://n:4222", "http://g:8080", devnet_dir / "genesis.json", devnet_dir / "keys",
                        first_client=2, clients=2, database_url=None)
    assert sorted(target.keys) == [2, 3] and target.pids == {} and target.database_url is None


def test_no_devnet_state_is_a_clear_error(tmp_path: Path) -> None:
    with pytest.raises(InputError, match="no devnet state"):
        from_devnet(tmp_path)


def test_devnet_may_run_without_trainers_and_provers_for_a_load_test(tmp_path: Path) -> None:
    config = DevnetConfig(root=tmp_path, clients=0, idle_clients=200, provers=0)
    assert config.clients + config.idle_clients == 200
    with pytest.raises(InputError, match="at least one member"):
        DevnetConfig(root=tmp_path, clients=0, idle_clients=0)
    with pytest.raises(InputError, match="trainers need at least one prover"):
        DevnetConfig(root=tmp_path, clients=2, provers=0)
    with pytest.raises(InputError):
        DevnetConfig(root=tmp_path, validators=0)
