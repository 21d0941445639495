"""NATS identities in the key folder: one nkey seed per party (mode 0600), public nkeys in public.json; a folder
written before NATS authentication still reads, and asking it for an nkey says what to do."""

from __future__ import annotations

import json
import stat
from pathlib import Path

import pytest
from zkpot.bus.errors import BusError
from zkpot.bus.jetstream import public_nkey
from zkpot.errors import InputError
from zkpot.task import Keyring, nkey_file_name


def test_keys_gen_writes_one_seed_per_party_and_the_public_nkeys(tmp_path: Path) -> None:
    keys = Keyring.generate(2, 3)
    keys.write(tmp_path)
    public = json.loads((tmp_path / "public.json").read_text())
    assert list(public["nats"]) == list(keys.parties().names())
    for name, key in public["nats"].items():
        seed = tmp_path / nkey_file_name(name)
        assert stat.S_IMODE(seed.stat().st_mode) == 0o600
        assert seed.read_text().startswith("SU") and key.startswith("U")
        assert public_nkey(seed) == key
    assert Keyring.read(tmp_path).nats == keys.nats
    assert len(set(keys.nats.values())) == len(keys.nats)


def test_a_folder_from_before_nats_authentication_still_reads(tmp_path: Path) -> None:
    keys = Keyring.generate(1, 1)
    keys.write(tmp_path)
    public = json.loads((tmp_path / "public.json").read_text())
    del public["nats"]
    (tmp_path / "public.json").write_text(json.dumps(public))
    for f in tmp_path.glob("nats-*.nk"):
        f.unlink()
    old = Keyring.read(tmp_path)
    assert old.nats == {} and "nats" not in old.public()
    with pytest.raises(InputError, match="run `zkpot keys gen` again"):
        old.nats_seed("trainer-0")


def test_a_seed_that_does_not_match_public_json_is_refused(tmp_path: Path) -> None:
    keys = Keyring.generate(1, 1)
    keys.write(tmp_path)
    (tmp_path / nkey_file_name("producer")).write_text(keys.nats_seed("operator"))
    with pytest.raises(InputError, match="nats-producer.nk"):
        Keyring.read(tmp_path)


def test_a_file_without_a_seed_is_a_clear_error(tmp_path: Path) -> None:
    (tmp_path / "bad.nk").write_text("not a seed")
    with pytest.raises(BusError, match="no NATS nkey seed"):
        public_nkey(tmp_path / "bad.nk")
    with pytest.raises(BusError, match="cannot read"):
        public_nkey(tmp_path / "missing.nk")


def test_member_provers_get_their_own_box_signing_and_nats_keys(tmp_path: Path) -> None:
    keys = Keyring.generate(2, 1, member_provers=True)
    keys.write(tmp_path)
    back = Keyring.read(tmp_path)
    assert back.parties().member_provers and {"prover-0", "prover-1"} <= set(back.nats) and "prover" not in back.nats
    assert [b.public_hex for b, _ in back.member_provers] == [b.public_hex for b, _ in keys.member_provers]
    assert back.prover_box(1).public_hex == keys.member_provers[1][0].public_hex != keys.prover_box(0).public_hex
    assert keys.public()["provers"] == [keys.prover_signing(m).public_hex for m in range(2)]
    assert (tmp_path / "prover-1.key").exists() and (tmp_path / nkey_file_name("prover-1")).exists()
    shared = Keyring.generate(2, 1)  # the default: one shared prover
    assert shared.member_provers == () and shared.prover_box(1) is shared.prover and "prover" in shared.nats
