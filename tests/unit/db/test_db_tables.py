"""The table definitions, row types and migration layout agree with each other (no database needed)."""

import dataclasses

import pytest
from alembic.script import ScriptDirectory
from zkpot.config import SERVICES
from zkpot.db import rows, tables
from zkpot.db.engine import alembic_config, head_revision, lock_key
from zkpot.errors import InputError
from zkpot.gateway.index import BlobRecord

ROW_OF_TABLE = [
    (tables.jobs, rows.JobRow),
    (tables.trainer_rounds, rows.TrainerRoundRow),
    (tables.verdicts, rows.VerdictRow),
    (tables.validator_blocks, rows.ValidatorBlockRow),
    (tables.validator_votes, rows.ValidatorVoteRow),
    (tables.producer_rounds, rows.ProducerRoundRow),
    (tables.txs, rows.TxRow),
    (tables.attestations, rows.AttestationRow),
    (tables.producer_blocks, rows.ProducerBlockRow),
    (tables.producer_votes, rows.ProducerVoteRow),
]


@pytest.mark.parametrize(("table", "row"), ROW_OF_TABLE, ids=lambda x: getattr(x, "fullname", ""))
def test_row_fields_are_the_table_columns_in_order(table, row):
    assert [f.name for f in dataclasses.fields(row)] == [c.name for c in table.columns]


@pytest.mark.parametrize("table", [tables.trainer_observed, tables.producer_observed, tables.validator_observed],
                         ids=lambda t: t.fullname)
def test_an_observed_row_is_the_observed_columns_but_the_arrival_time(table):
    assert [f.name for f in dataclasses.fields(rows.ObservedRow)] + ["observed_at"] == [c.name for c in table.columns]


def test_the_gateway_blob_record_reads_columns_of_the_blob_table():
    assert {f.name for f in dataclasses.fields(BlobRecord)} <= {c.name for c in tables.blobs.columns}


def test_each_metadata_holds_only_its_schema():
    for schema, metadata in tables.METADATA.items():
        assert {t.schema for t in metadata.sorted_tables} == {schema}


def test_every_service_has_a_schema():
    assert {tables.schema_for(s) for s in SERVICES} == set(tables.SCHEMAS)
    assert tables.schema_for("producer") == "producer"


def test_unknown_service_is_refused():
    with pytest.raises(InputError, match="no database schema"):
        tables.schema_for("miner")


@pytest.mark.parametrize("schema", tables.SCHEMAS)
def test_each_schema_has_one_linear_history_of_its_own(schema):
    script = ScriptDirectory.from_config(alembic_config(schema))
    revisions = list(script.walk_revisions())
    assert script.get_heads() == [head_revision(schema)]
    assert [rev.revision for rev in reversed(revisions)] == [f"{schema}_{n:04d}" for n in range(1, len(revisions) + 1)]


def test_lock_keys_are_stable_distinct_bigints():
    keys = [lock_key(schema) for schema in tables.SCHEMAS]
    assert len(set(keys)) == len(keys)
    assert all(-(2**63) <= k < 2**63 for k in keys)
    assert lock_key("prover") == lock_key("prover")
