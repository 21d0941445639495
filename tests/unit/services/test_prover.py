"""The prover on the in-memory bus and store with the fake proof system: it proves a member's sealed weights,
reports the result, records a job it cannot open, and after a restart does not prove a done job twice."""

from __future__ import annotations

import dataclasses

import pytest
from zkpot.bus import Delivery
from zkpot.bus.subjects import JOBS, proof_done_subject, prove_subject
from zkpot.db.memory import MemoryProverRepo
from zkpot.domain import Reason, SigningKey, seal
from zkpot.domain.errors import Unauthorized
from zkpot.domain.events import ProofDone, ProveJob
from zkpot.errors import InputError
from zkpot.metrics import Metrics
from zkpot.ml.model import weights_to_bytes
from zkpot.services.prover import Prover
from zkpot.services.trainer import job_id

from .support import Task, counter, eventually


async def _job(task: Task, seed: int, *, to: str | None = None) -> ProveJob:
    """Member 0's job for round 1: weights of ``seed`` sealed to the prover (or to the key ``to``)."""
    client = task.keys.clients[0].public_hex
    sealed = seal(weights_to_bytes(task.weights(seed)), to or task.keys.prover.public_hex)
    return ProveJob(job_id=job_id(client, 1), client=client, member="0", round=1, parent=task.genesis.genesis_hash,
                    weights_cid=await task.blobs.put("model", sealed)).sign(task.keys.clients[0])


async def _run(task: Task, prover_store: MemoryProverRepo, job: ProveJob, until: str) -> Prover:
    """A prover on ``prover_store`` takes ``job`` from the bus until the job's status is ``until``."""
    prover = task.prover(prover_store)
    await prover.start()
    try:
        await task.bus.publish(prove_subject(job.member), job.to_dict(), job.job_id)
        await eventually(lambda: (row := prover_store.jobs.get(job.job_id)) is not None and row.status == until,
                         f"the job {until}")
    finally:
        await prover.stop()
    return prover


async def test_a_job_is_proved_and_its_result_reported_to_the_member() -> None:
    async with Task(clients=1) as task:
        store, job = MemoryProverRepo(), await _job(task, 1)
        prover = await _run(task, store, job, "done")
        reported = task.payloads(proof_done_subject("0"))
    done = ProofDone.from_dict(reported[0])
    assert (done.job_id, done.client, done.round) == (job.job_id, job.client, 1)
    assert done.commitment == task.system.commitment(task.weights(1))
    claims = task.system.checker().check(await task.blobs.get(done.proof_cid, 1 << 20))
    assert (claims.commitment, claims.correct, claims.samples) == (done.commitment, done.correct, done.samples)
    row = await store.get(job.job_id)
    assert row is not None and row.attempts == 1 and row.proof_cid == done.proof_cid
    assert row.job["result"] == done.to_dict()
    assert counter(prover.metrics, "zkpot_prove_jobs", status="done") == 1


async def test_weights_it_cannot_open_fail_the_job() -> None:
    async with Task(clients=1) as task:
        store, job = MemoryProverRepo(), await _job(task, 1, to=task.keys.aggregator.public_hex)
        prover = await _run(task, store, job, "failed")
        row = await store.get(job.job_id)
        assert row is not None and row.error and row.attempts == 1
        assert task.payloads(proof_done_subject("0")) == [] and task.system.proofs == 0
        assert counter(prover.metrics, "zkpot_prove_jobs", status="failed") == 1


async def test_a_restarted_prover_reports_a_done_job_again_without_proving_it() -> None:
    async with Task(clients=1) as task:
        store, job = MemoryProverRepo(), await _job(task, 1)
        await _run(task, store, job, "done")
        assert task.system.proofs == 1
        again = task.prover(store)  # a new process over the same database; the job is redelivered
        await again.on_job(Delivery(prove_subject("0"), job.to_dict(), 2, job.job_id, 0, raw=None))  # type: ignore[arg-type]
        assert task.system.proofs == 1 and len(task.payloads(proof_done_subject("0"))) == 1  # same msg id
        row = await store.get(job.job_id)
        assert row is not None and row.attempts == 1 and row.status == "done"
        assert counter(again.metrics, "zkpot_prove_jobs", status="done") == 0


@pytest.mark.parametrize("forge", ["unknown_client", "unsigned", "other_member", "wrong_subject"])
async def test_a_job_not_signed_by_its_own_member_is_refused_before_anything_is_stored(forge: str) -> None:
    async with Task(clients=2) as task:
        job, subject = await _job(task, 1), prove_subject("0")
        if forge == "unknown_client":
            stranger = SigningKey.generate()
            job = dataclasses.replace(job, client=stranger.public_hex).sign(stranger)
        elif forge == "unsigned":
            job = dataclasses.replace(job, signature="")
        elif forge == "other_member":  # member 1 asks for a proof under member 0's name
            job = dataclasses.replace(job, client=task.keys.clients[1].public_hex).sign(task.keys.clients[1])
        else:
            subject = prove_subject("1")
        store = MemoryProverRepo()
        prover = task.prover(store)
        with pytest.raises(Unauthorized) as refused:
            await prover.on_job(Delivery(subject, job.to_dict(), 1, job.job_id, 0, raw=None))  # type: ignore[arg-type]
        expected = {"unknown_client": Reason.UNKNOWN_CLIENT, "unsigned": Reason.BAD_SIGNATURE,
                    "other_member": Reason.WRONG_SUBJECT, "wrong_subject": Reason.WRONG_SUBJECT}[forge]
        assert refused.value.reason is expected
        assert store.jobs == {} and task.system.proofs == 0


async def test_proof_results_are_signed_by_the_genesis_prover() -> None:
    async with Task(clients=1) as task:
        job = await _job(task, 1)
        await _run(task, MemoryProverRepo(), job, "done")
        done = ProofDone.from_dict(task.payloads(proof_done_subject("0"))[0])
    assert done.prover in task.genesis.provers and done.signature_valid()


async def _member_job(task: Task, member: int) -> ProveJob:
    """Member ``member``'s job for round 1, its weights sealed to its own prover's box key."""
    key = task.keys.clients[member]
    sealed = seal(weights_to_bytes(task.weights(member + 1)), task.keys.prover_box(member).public_hex)
    return ProveJob(job_id=job_id(key.public_hex, 1), client=key.public_hex, member=str(member), round=1,
                    parent=task.genesis.genesis_hash, weights_cid=await task.blobs.put("model", sealed)).sign(key)


async def test_a_members_own_prover_proves_its_members_job_and_sees_no_other() -> None:
    async with Task(clients=2, member_provers=True) as task:
        store = MemoryProverRepo()
        prover = task.prover(store, member=1)
        await prover.start()
        try:
            mine, theirs = await _member_job(task, 1), await _member_job(task, 0)
            await task.bus.publish(prove_subject("0"), theirs.to_dict(), theirs.job_id)
            await task.bus.publish(prove_subject("1"), mine.to_dict(), mine.job_id)
            await eventually(lambda: (row := store.jobs.get(mine.job_id)) is not None and row.status == "done",
                             "member 1's job done")
        finally:
            await prover.stop()
        assert theirs.job_id not in store.jobs and task.system.proofs == 1
        assert task.payloads(proof_done_subject("0")) == []
        done = ProofDone.from_dict(task.payloads(proof_done_subject("1"))[0])
        assert done.prover == task.keys.prover_signing(1).public_hex and done.prover in task.genesis.provers
        assert done.signature_valid()
        state = await task.bus.consumer_state(JOBS, "prover-1")
        assert state.pending == 0


async def test_a_members_own_prover_refuses_another_members_job() -> None:
    async with Task(clients=2, member_provers=True) as task:
        job, store = await _member_job(task, 0), MemoryProverRepo()
        prover = task.prover(store, member=1)
        with pytest.raises(Unauthorized) as refused:
            await prover.on_job(Delivery(prove_subject("0"), job.to_dict(), 1, job.job_id, 0, raw=None))  # type: ignore[arg-type]
        assert refused.value.reason is Reason.WRONG_SUBJECT
        assert store.jobs == {} and task.system.proofs == 0


async def test_weights_sealed_to_another_members_prover_fail_the_job_with_a_reason() -> None:
    async with Task(clients=2, member_provers=True) as task:
        key = task.keys.clients[0]
        sealed = seal(weights_to_bytes(task.weights(1)), task.keys.prover_box(1).public_hex)  # member 1's prover
        job = ProveJob(job_id=job_id(key.public_hex, 1), client=key.public_hex, member="0", round=1,
                       parent=task.genesis.genesis_hash, weights_cid=await task.blobs.put("model", sealed)).sign(key)
        store = MemoryProverRepo()
        prover = task.prover(store, member=0)
        await prover.start()
        try:
            await task.bus.publish(prove_subject("0"), job.to_dict(), job.job_id)
            await eventually(lambda: (row := store.jobs.get(job.job_id)) is not None and row.status == "failed",
                             "the job failed")
        finally:
            await prover.stop()
        row = await store.get(job.job_id)
        assert row is not None and row.error and "cannot be opened by member 0's prover" in row.error
        assert counter(prover.metrics, "zkpot_prove_jobs", status="failed") == 1 and task.system.proofs == 0


def test_a_prover_for_a_member_genesis_does_not_name_is_refused() -> None:
    task = Task(clients=2, member_provers=True)
    for member in ("2", "-1", "01", "x"):
        with pytest.raises(InputError):
            Prover(task.bus, MemoryProverRepo(), task.blobs, task.genesis, task.system, task.keys.prover_box(0),
                   task.keys.prover_signing(0), 1, Metrics("prover"), member=member)
