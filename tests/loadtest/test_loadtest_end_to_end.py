"""`python -m loadtest` end to end on a fresh devnet of its own: 4 members x 1 round with real pooled proofs, every
proof verified by 4 validators, the block finalized, and the report accounting for every transaction."""

import json
import subprocess
import sys
from pathlib import Path

import pytest

pytestmark = [pytest.mark.integration, pytest.mark.slow]
ROOT = Path(__file__).resolve().parents[2]
CLIENTS, VALIDATORS = 4, 4


@pytest.fixture(scope="module")
def report(tmp_path_factory: pytest.TempPathFactory) -> dict:
    work = tmp_path_factory.mktemp("loadtest")
    cmd = [sys.executable, "-m", "loadtest", "--clients", str(CLIENTS), "--rounds", "1", "--validators",
           str(VALIDATORS), "--deadline", "900", "--round-timeout", "900", "--workdir", str(work / "devnet"),
           "--out", str(work / "out"), "--json"]
    done = subprocess.run(cmd, cwd=ROOT, capture_output=True, text=True, timeout=1800)
    assert done.returncode == 0, done.stderr[-3000:]
    return json.loads(done.stdout)


def test_every_transaction_is_in_its_block_exactly_once(report: dict) -> None:
    t = report["transactions"]
    assert (t["submitted"], t["included"], t["rejected"]) == (CLIENTS, CLIENTS, 0)
    assert (t["lost"], t["duplicated"], t["misplaced"], t["foreign"]) == (0, 0, 0, 0)
    assert t["dropped_as_duplicate_on_publish"] == 0
    [row] = report["rounds"]
    assert (row["round"], row["txs"], row["included"], row["rejected"]) == (1, CLIENTS, CLIENTS, 0)


def test_every_validator_judged_every_proof(report: dict) -> None:
    v = report["verification"]
    assert v["verdict_s"]["n"] == CLIENTS * VALIDATORS
    assert v["proof_checks"] == CLIENTS * VALIDATORS
    assert 0 < v["verdict_s"]["p50"] <= v["verdict_s"]["p95"] <= v["verdict_s"]["p99"]


def test_throughput_phases_and_resources_are_measured(report: dict) -> None:
    tp = report["throughput"]
    assert all(tp[k] > 0 for k in ("ingested_tx_per_s", "verified_tx_per_s", "finalized_tx_per_s"))
    [row] = report["rounds"]
    assert all(row[k] > 0 for k in ("collection_s", "aggregation_s", "finalization_s", "verification_s"))
    assert row["round_s"] >= row["collection_s"]
    names = {f"validator-{i}" for i in range(VALIDATORS)} | {"block-producer", "ipfs-gateway", "nats-server",
                                                             "postgres"}
    assert names <= set(report["resources"])
    assert all(report["resources"][n]["cpu_s"] > 0 for n in names)
    assert report["metrics"]["block-producer"]["zkpot_blocks_finalized_total"] == 1
    assert Path(report["chart"]).read_bytes()[:4] == b"\x89PNG"
