"""The ProverStore and TrainerStore contracts: each test runs on the in-memory twin and on the SQL repository over
a real PostgreSQL (conftest.py)."""

import pytest
from zkpot.db import TrainedRound


class TestProverStore:
    @pytest.fixture
    def prover(self, prover_store):
        return prover_store

    async def test_job_lifecycle(self, prover) -> None:
        job = {"job_id": "j1", "round": 3, "extra": [1, 2]}
        assert await prover.enqueue("j1", client="ab" * 32, round=3, model_cid="bafy-m", job=job) is True
        assert await prover.enqueue("j1", client="cd" * 32, round=4, model_cid="bafy-x") is False
        queued = await prover.get("j1")
        assert queued is not None
        assert (queued.status, queued.attempts, queued.client, queued.job) == ("queued", 0, "ab" * 32, job)
        assert await prover.start("j1") == 1
        assert await prover.fail("j1", "witness failed") is True
        assert await prover.start("j1") == 2
        assert await prover.finish("j1", proof_cid="bafy-p", tx_id="ef" * 32, witness_s=1.5, prove_s=20.25,
                                   peak_rss_mb=812.0) is True
        done = await prover.get("j1")
        assert done is not None
        assert (done.status, done.attempts, done.proof_cid, done.tx_id, done.error) == ("done", 2, "bafy-p", "ef" * 32,
                                                                                         None)
        assert (done.witness_s, done.prove_s, done.peak_rss_mb) == (1.5, 20.25, 812.0)
        assert done.started_at is not None and done.finished_at is not None and done.finished_at >= done.started_at


    async def test_the_result_is_kept_beside_the_job_message(self, prover) -> None:
        await prover.enqueue("j1", client="ab" * 32, round=1, model_cid="m", job={"member": "2"})
        assert await prover.set_result("j1", {"tx_id": "t1"}) is True
        assert await prover.set_result("j1", {"tx_id": "t2", "k": [1]}) is True
        assert await prover.set_result("nope", {"tx_id": "t"}) is False
        row = await prover.get("j1")
        assert row is not None and row.job == {"member": "2", "result": {"tx_id": "t2", "k": [1]}}


    async def test_a_job_read_back_is_a_copy(self, prover) -> None:
        await prover.enqueue("j1", client="ab" * 32, round=1, model_cid="m", job={"member": "2", "k": (1, 2)})
        first = await prover.get("j1")
        assert first is not None and first.job == {"member": "2", "k": [1, 2]}
        first.job["member"] = "9"
        again = await prover.get("j1")
        assert again is not None and again.job["member"] == "2"

    async def test_a_done_job_stays_done(self, prover) -> None:
        await prover.enqueue("j1", client="ab" * 32, round=1, model_cid="m")
        await prover.start("j1")
        await prover.finish("j1", proof_cid="p", tx_id="t", witness_s=1.0, prove_s=2.0, peak_rss_mb=3.0)
        assert await prover.start("j1") is None
        assert await prover.fail("j1", "late failure") is False
        assert await prover.finish("j1", proof_cid="q", tx_id="u", witness_s=0, prove_s=0, peak_rss_mb=0) is False
        row = await prover.get("j1")
        assert row is not None and (row.status, row.proof_cid, row.error) == ("done", "p", None)


    async def test_unknown_jobs(self, prover) -> None:
        assert await prover.get("nope") is None
        assert await prover.start("nope") is None
        assert await prover.fail("nope", "x") is False


    async def test_jobs_counted_by_status(self, prover) -> None:
        for job_id in ("a", "b", "c"):
            await prover.enqueue(job_id, client="ab" * 32, round=1, model_cid="m")
        await prover.start("a")
        await prover.fail("b", "oom")
        assert await prover.count_by_status() == {"queued": 1, "running": 1, "failed": 1}


def _trained(round_: int, **kw: object) -> TrainedRound:
    fields: dict = {"client": "ab" * 32, "round": round_, "parent": "cd" * 32, "global_model_cid": "bafy-g",
                    "status": "trained", "model_cid": "bafy-m", "model_sha256": "ef" * 32, "n_train": 600,
                    "float_correct": 91, "train_s": 3.5}
    fields.update(kw)
    return TrainedRound(**fields)


class TestTrainerStore:
    @pytest.fixture
    def trainer(self, trainer_store):
        return trainer_store

    async def test_trainer_rounds_record_once_and_read_back(self, trainer) -> None:
        assert await trainer.record_round(_trained(1)) is True
        assert await trainer.record_round(_trained(1, status="other", n_train=1)) is False
        row = await trainer.get_round("ab" * 32, 1)
        assert row is not None
        assert (row.status, row.n_train, row.float_correct, row.train_s, row.job_id) == ("trained", 600, 91, 3.5, None)
        assert await trainer.get_round("ab" * 32, 2) is None


    async def test_trainer_round_keeps_its_proof_job_message(self, trainer) -> None:
        job = {"job_id": "job-1", "round": 1, "nested": {"a": [1, 2]}}
        await trainer.record_round(_trained(1, job=job))
        await trainer.record_round(_trained(2))
        first, second = await trainer.get_round("ab" * 32, 1), await trainer.get_round("ab" * 32, 2)
        assert first is not None and first.job == job
        assert second is not None and second.job is None


    async def test_trainer_round_status_and_latest(self, trainer) -> None:
        for round_ in (1, 2):
            await trainer.record_round(_trained(round_))
        await trainer.record_round(_trained(7, client="01" * 32))
        assert await trainer.set_status("ab" * 32, 2, "submitted", job_id="job-2") is True
        assert await trainer.set_status("ab" * 32, 9, "submitted") is False
        latest = await trainer.latest_round("ab" * 32)
        assert latest is not None and (latest.round, latest.status, latest.job_id) == (2, "submitted", "job-2")
        assert await trainer.latest_round("ff" * 32) is None
