"""The event log and the report computed from a recorded run (no network: the events are fed by hand)."""

import itertools

from zkpot.bus.subjects import BLOCK_FINALIZED, BLOCK_PROPOSED, ROUND_OPEN, TX_ATTESTED
from zkpot.domain.events import Finalized, Proposal

from loadtest.collect import DbFacts
from loadtest.driver import RunRecord, Submission
from loadtest.events import EventLog, quorum_time
from loadtest.report import build
from tests.unit.domain.builders import VALIDATORS, build_chain


class Clock:
    def __init__(self) -> None:
        self.now = 0.0

    def __call__(self) -> float:
        return self.now


def finalized(chain, block) -> dict:  # noqa: ANN001
    return Finalized(Proposal.of(block, chain.attestations), tuple(chain.votes[block.hash])).to_dict()


def attest(log: EventLog, clock: Clock, at: float, tx_id: str, validator: int, valid: bool = True) -> None:
    clock.now = at
    log.record(TX_ATTESTED, {"tx_id": tx_id, "round": 1, "validator": VALIDATORS[validator].public_hex,
                             "valid": valid, "reason": "ok" if valid else "proof_invalid"})


def recorded_run():  # noqa: ANN201
    """Round 1 of a chain: three txs submitted at 10.0-10.2, each attested by validators 0-2 (quorum 3)."""
    chain = build_chain(1)
    [block] = chain.blocks
    clock = Clock()
    log = EventLog(clock=clock)
    clock.now = 9.0
    log.record(ROUND_OPEN, {"round": 1, "parent": block.header.prev_hash, "global_model_cid": "x", "deadline_ms": 0})
    subs = [Submission(tx.tx_id, 1, i, 10.0 + i / 10, 10.05 + i / 10, True) for i, tx in enumerate(block.txs)]
    for (i, tx), v in itertools.product(enumerate(block.txs), range(3)):
        attest(log, clock, 12.0 + i + v, tx.tx_id, v)
    clock.now = 20.0
    log.record(BLOCK_PROPOSED, {"block": {"header": {"round": 1}}})
    clock.now = 25.0
    log.record(BLOCK_FINALIZED, finalized(chain, block), size=4096)
    run = RunRecord(subs, log, [1], 8.0, 26.0)
    db = DbFacts(received={s.tx_id: s.submitted + 0.5 for s in subs},
                 rounds={1: {"opened_at": 8.5, "closed_at": 18.0, "collection_s": 9.5, "aggregation_s": 2.0,
                             "finalization_s": 5.0, "state": "final"}},
                 verify_s={s.tx_id: {f"v{v}": 1.0 + v for v in range(3)} for s in subs})
    return run, db, block


def test_quorum_time_is_the_quorum_th_valid_attestation() -> None:
    seen = {"a": (5.0, True, "ok"), "b": (3.0, True, "ok"), "c": (4.0, False, "proof_invalid"), "d": (7.0, True, "ok")}
    assert quorum_time(seen, 2) == 5.0
    assert quorum_time(seen, 3) == 7.0
    assert quorum_time(seen, 4) is None


def test_event_log_knows_the_open_round_and_the_used_commitments() -> None:
    run, _, block = recorded_run()
    log = run.log
    assert log.open_round() is None  # round 1 is final
    log.record(ROUND_OPEN, {"round": 2, "parent": block.hash, "global_model_cid": "y", "deadline_ms": 0})
    assert log.open_round() == 2
    assert log.used_commitments() == {tx.commitment for tx in block.txs}
    assert log.final_of_round(1).payload_bytes == 4096  # type: ignore[union-attr]


def test_a_validator_attesting_twice_counts_once() -> None:
    log = EventLog(clock=Clock())
    for _ in range(3):
        attest(log, Clock(), 1.0, "t", 0)
    assert log.verified_at("t", 2) is None


def test_report_from_a_recorded_run() -> None:
    run, db, block = recorded_run()
    buckets = {'zkpot_verify_seconds_bucket{le="0.5"}': 0.0, 'zkpot_verify_seconds_bucket{le="1.0"}': 2.0,
               'zkpot_verify_seconds_bucket{le="+Inf"}': 2.0}
    report, times = build(run, config={"clients": 3}, quorum=3, db=db, resources={}, metrics={
        "validator-0": {"zkpot_verify_seconds_sum": 2.0, "zkpot_verify_seconds_count": 2.0} | buckets,
        "validator-1": {"zkpot_verify_seconds_sum": 1.0, "zkpot_verify_seconds_count": 1.0,
                        'zkpot_verify_seconds_bucket{le="0.5"}': 1.0, 'zkpot_verify_seconds_bucket{le="1.0"}': 1.0,
                        'zkpot_verify_seconds_bucket{le="+Inf"}': 1.0},
        "down": "unreachable"})
    t = report["transactions"]
    assert t["ok"] and (t["submitted"], t["included"], t["rejected"], t["lost"], t["duplicated"]) == (3, 3, 0, 0, 0)
    assert t["foreign"] == 1  # the chain's own rejected tx from an outsider
    tp = report["throughput"]
    assert tp["ingested_tx_per_s"] == round(3 / (10.75 - 10.0), 3)  # last stored 10.25 + 0.5
    assert tp["verified_tx_per_s"] == round(3 / (16.0 - 10.0), 3)  # third tx's third attestation at 12 + 2 + 2
    assert tp["finalized_tx_per_s"] == round(3 / 18.0, 3)
    assert tp["ingest_latency_s"]["p50"] == 0.5
    [row] = report["rounds"]
    assert row == {"round": 1, "txs": 3, "included": 3, "rejected": 1, "round_s": 16.5, "submit_s": 0.25,
                   "verification_s": 6.0, "collection_s": 9.5, "aggregation_s": 2.0, "finalization_s": 5.0,
                   "finalized_bytes": 4096}
    v = report["verification"]
    assert v["verdict_s"]["n"] == 9 and v["verdict_s"]["p50"] == 2.0
    assert (v["proof_check_mean_s"], v["proof_checks"]) == (1.0, 3)
    # summed over validators: 1 check <= 0.5 s, 3 <= 1.0 s; the median (rank 1.5) lies half-way in (0.5, 1.0]
    assert v["proof_check_s_from_buckets"] == {"p50": 0.625, "p95": 0.9625, "p99": 0.9925}
    assert [x.verified for x in times] == [14.0, 15.0, 16.0]


def test_without_a_database_the_database_figures_are_absent_not_invented() -> None:
    run, _, _ = recorded_run()
    report, _ = build(run, config={}, quorum=3, db=None, resources={}, metrics={})
    assert report["throughput"]["ingested_tx_per_s"] is None
    assert report["throughput"]["verified_tx_per_s"] is not None
    row = report["rounds"][0]
    assert row["collection_s"] is None and row["round_s"] == 16.0  # from the round.open event at 9.0
    assert report["verification"]["verdict_s"]["n"] == 0
