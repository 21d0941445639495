"""Who may upload what: the uploaders the gateway builds from the genesis registry and extra keys."""

from __future__ import annotations

import dataclasses

import pytest
from zkpot.errors import InputError
from zkpot.gateway.access import KINDS_OF_ROLE, Limits, Uploader, parse_keys, uploaders_from_genesis
from zkpot.gateway.wire import BlobKind

from tests.unit.domain.builders import CLIENTS, GENESIS, PRODUCER, VALIDATORS, key

PROVER = key(40)
EXTRA = key(41)


def test_every_genesis_party_is_an_uploader_of_its_role() -> None:
    uploaders = uploaders_from_genesis(GENESIS)
    assert uploaders[PRODUCER.public_hex] == Uploader("producer", frozenset({BlobKind.GLOBAL, BlobKind.AGGREGATE}))
    assert uploaders[CLIENTS[2].public_hex] == Uploader("client-2", frozenset({BlobKind.MODEL, BlobKind.PROOF,
                                                                               BlobKind.MASKED}))
    assert uploaders[VALIDATORS[1].public_hex] == Uploader("validator-1", frozenset())
    assert len(uploaders) == 1 + len(CLIENTS) + len(VALIDATORS)


def test_each_member_producer_uploads_global_models_and_aggregates_and_no_single_producer_is_named() -> None:
    producers = tuple(key(40 + i).public_hex for i in range(len(CLIENTS)))
    uploaders = uploaders_from_genesis(dataclasses.replace(GENESIS, producer="", producers=producers))
    assert uploaders[producers[1]] == Uploader("producer-1", frozenset({BlobKind.GLOBAL, BlobKind.AGGREGATE}))
    assert PRODUCER.public_hex not in uploaders
    assert len(uploaders) == 2 * len(CLIENTS) + len(VALIDATORS)


def test_provers_come_from_the_genesis_when_it_names_them() -> None:
    with_provers = dataclasses.replace(GENESIS, provers=(PROVER.public_hex,))
    uploaders = uploaders_from_genesis(with_provers)
    assert uploaders[PROVER.public_hex] == Uploader("prover-0", frozenset({BlobKind.PROOF}))


def test_extra_keys_upload_models_and_proofs_and_nobody_uploads_other() -> None:
    uploaders = uploaders_from_genesis(GENESIS, [EXTRA.public_hex])
    assert uploaders[EXTRA.public_hex] == Uploader("extra-0", KINDS_OF_ROLE["extra"])
    assert all(BlobKind.OTHER not in u.kinds for u in uploaders.values())


def test_a_key_in_two_roles_keeps_its_first_name_and_both_roles_kinds() -> None:
    uploaders = uploaders_from_genesis(GENESIS, [PRODUCER.public_hex])
    kinds = frozenset(BlobKind) - {BlobKind.OTHER, BlobKind.MASKED}
    assert uploaders[PRODUCER.public_hex] == Uploader("producer", kinds)


def test_a_malformed_extra_key_fails_at_start() -> None:
    with pytest.raises(InputError, match="extra-0"):
        uploaders_from_genesis(GENESIS, ["not-a-key"])


def test_parse_keys_splits_trims_and_drops_blanks() -> None:
    assert parse_keys(None) == parse_keys("") == parse_keys(" , ") == []
    assert parse_keys(f" {EXTRA.public_hex.upper()} ,{PROVER.public_hex},") == [EXTRA.public_hex, PROVER.public_hex]


def test_a_kind_without_its_own_cap_gets_the_blob_cap() -> None:
    limits = Limits(max_blob_bytes=100, kind_max_bytes={BlobKind.PROOF: 10})
    assert (limits.cap(BlobKind.PROOF), limits.cap(BlobKind.MODEL)) == (10, 100)
