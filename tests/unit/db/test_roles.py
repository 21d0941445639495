"""The pure parts of zkpot.db.roles: names, URLs, the checks before any SQL, the files it writes."""

import stat

import pytest
from zkpot.db.roles import ACCOUNTS, account_url, new_passwords, provision, read_passwords, role_name, write_urls
from zkpot.errors import InputError


def test_each_service_and_the_reader_have_a_role_named_after_the_schema() -> None:
    assert [role_name(a) for a in ACCOUNTS] == ["zkpot_trainer", "zkpot_prover", "zkpot_validator", "zkpot_producer",
                                                "zkpot_gateway", "zkpot_reader"]
    assert role_name("block-producer", "net2") == "net2_producer"
    with pytest.raises(InputError, match="no database role"):
        role_name("postgres")


def test_an_account_url_keeps_host_database_and_options() -> None:
    url = account_url("postgresql://admin:secret@db:5432/zkpot?sslmode=require", "zkpot_trainer", "pw-with/slash")
    assert url == "postgresql+psycopg://zkpot_trainer:pw-with%2Fslash@db:5432/zkpot?sslmode=require"


@pytest.mark.parametrize(("change", "message"), [
    ({"reader": None}, "no password for reader"),
    ({"trainer": "short"}, "at least 16 printable ASCII"),
    ({"prover": "lo\nng-enough-but-has-a-newline"}, "printable ASCII"),
])
def test_bad_passwords_are_refused_before_connecting(change: dict, message: str) -> None:
    passwords = {**new_passwords(), **change}
    passwords = {k: v for k, v in passwords.items() if v is not None}
    with pytest.raises(InputError, match=message):
        provision("postgresql://nowhere.invalid/zkpot", passwords)


@pytest.mark.parametrize("prefix", ["", "1zkpot", "zk-pot", "zk pot", "x" * 41])
def test_bad_prefixes_are_refused_before_connecting(prefix: str) -> None:
    with pytest.raises(InputError, match="role prefix"):
        provision("postgresql://nowhere.invalid/zkpot", new_passwords(), prefix=prefix)


def test_passwords_are_made_once_and_read_back(tmp_path) -> None:
    made = read_passwords(tmp_path / "pw", create=True)
    assert set(made) == set(ACCOUNTS) and all(len(p) >= 32 for p in made.values())
    assert read_passwords(tmp_path / "pw") == made
    assert stat.S_IMODE((tmp_path / "pw" / "trainer").stat().st_mode) == 0o600
    (tmp_path / "pw" / "reader").unlink()
    with pytest.raises(InputError, match="no password for reader"):
        read_passwords(tmp_path / "pw")


def test_urls_are_written_for_kubectl_from_file(tmp_path) -> None:
    (tmp_path / "out").mkdir(mode=0o755)
    (tmp_path / "out" / "trainer.url").write_text("old")
    paths = write_urls({"trainer": "postgresql+psycopg://a:b@h/d", "ipfs-gateway": "postgresql+psycopg://c:d@h/d"},
                       tmp_path / "out")
    assert {a: p.name for a, p in paths.items()} == {"trainer": "trainer.url", "ipfs-gateway": "ipfs-gateway.url"}
    assert paths["trainer"].read_text() == "postgresql+psycopg://a:b@h/d"
    assert {stat.S_IMODE(p.stat().st_mode) for p in paths.values()} == {0o600}
