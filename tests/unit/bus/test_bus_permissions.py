"""The allow-lists as data: each party publishes its own subjects and pulls from its own durables only."""

from __future__ import annotations

import json

import pytest
from zkpot.bus.msgid import binds, bound_id, content_digest, logical_id
from zkpot.bus.parties import Identity, Parties, identities
from zkpot.bus.permissions import allow_lists, authorization_block, inbox_prefix, users

KEY = "U" + "A" * 55


def rights(name: str, parties: Parties | None = None) -> dict[str, list[str]]:
    [identity] = [i for i in identities(parties or Parties(2, 2)) if i.name == name]
    return allow_lists(identity, KEY)


def data_subjects(lists: dict[str, list[str]]) -> list[str]:
    return [s for s in lists["publish"] if not s.startswith("$JS.")]


def test_each_role_publishes_only_its_subjects() -> None:
    assert data_subjects(rights("trainer-1")) == ["zkpot.jobs.prove.1", "zkpot.tx.submitted"]
    assert data_subjects(rights("validator-0")) == ["zkpot.tx.attested", "zkpot.block.vote"]
    assert data_subjects(rights("producer")) == ["zkpot.round.open", "zkpot.block.proposed", "zkpot.block.finalized"]
    assert data_subjects(rights("prover")) == ["zkpot.proof.done.*"]
    assert data_subjects(rights("prover-1", Parties(2, 2, member_provers=True))) == ["zkpot.proof.done.1"]
    assert data_subjects(rights("watch")) == []
    assert data_subjects(rights("loadtest")) == ["zkpot.tx.submitted"]


def test_a_trainer_pulls_acks_and_reads_only_through_its_own_durables() -> None:
    api = [s for s in rights("trainer-0")["publish"] if s.startswith("$JS.")]
    assert api == ["$JS.API.INFO", "$JS.API.STREAM.INFO.ZKPOT_EVENTS", "$JS.API.STREAM.INFO.ZKPOT_JOBS",
                   "$JS.API.STREAM.MSG.GET.ZKPOT_EVENTS",
                   "$JS.API.CONSUMER.INFO.ZKPOT_EVENTS.trainer-0-rounds",
                   "$JS.API.CONSUMER.MSG.NEXT.ZKPOT_EVENTS.trainer-0-rounds", "$JS.ACK.ZKPOT_EVENTS.trainer-0-rounds.>",
                   "$JS.API.CONSUMER.INFO.ZKPOT_EVENTS.trainer-0-proofs",
                   "$JS.API.CONSUMER.MSG.NEXT.ZKPOT_EVENTS.trainer-0-proofs", "$JS.ACK.ZKPOT_EVENTS.trainer-0-proofs.>"]
    assert rights("trainer-0")["subscribe"] == [f"_INBOX.{KEY}.>"]


def test_only_the_operator_may_create_update_or_delete() -> None:
    for identity in identities(Parties(3, 3)):
        publish = allow_lists(identity, KEY)["publish"]
        if identity.operator:
            assert publish == ["$JS.API.>"]
            continue
        assert not [s for s in publish if any(w in s for w in ("CREATE", "DELETE", "UPDATE", "PURGE", ">"))
                    and not s.startswith("$JS.ACK.")]
        assert not [s for s in publish if s.endswith(".*") and not s.startswith("zkpot.proof.done")]


def test_the_authorization_block_lists_every_party_and_no_anonymous_user() -> None:
    parties = Parties(1, 1)
    keys = {name: f"U{i:055d}" for i, name in enumerate(parties.names())}
    block = authorization_block(parties, keys, indent="  ")
    assert block.startswith("  authorization {") and "no_auth_user" not in block
    entries = [json.loads(line) for line in block.splitlines() if line.strip().startswith("{")]
    assert [e["nkey"] for e in entries] == list(keys.values())
    assert entries[0]["permissions"]["subscribe"]["allow"] == [f"{inbox_prefix(keys['operator'])}.>"]


def test_a_party_without_a_public_nkey_is_named() -> None:
    with pytest.raises(KeyError, match="producer"):
        users(Parties(1, 1), {"operator": KEY})


def test_an_identity_without_rights_publishes_nothing_but_metadata() -> None:
    assert data_subjects(allow_lists(Identity("nobody"), KEY)) == []


def test_bound_ids_commit_to_subject_and_bytes() -> None:
    wire = bound_id("round-1", "zkpot.round.open", b"{}")
    assert wire == "round-1." + content_digest("zkpot.round.open", b"{}") and len(wire) == len("round-1.") + 64
    assert logical_id(wire) == "round-1" and logical_id("round-1") == "round-1" and logical_id(None) is None
    assert binds(wire, "zkpot.round.open", b"{}")
    assert not binds(wire, "zkpot.round.open", b"{ }") and not binds(wire, "zkpot.tx.submitted", b"{}")
    assert bound_id("a", "s", b"x") != bound_id("a", "s", b"y")
