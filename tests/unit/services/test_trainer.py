"""The trainer on the in-memory bus and store, with a real prover service on the fake proof system: it trains on
its shard, hands the proof job over, signs the tx when the proof is back, and after a restart does not train twice."""

from __future__ import annotations

import dataclasses

import pytest
from zkpot.bus import Delivery
from zkpot.bus.subjects import PROVE_JOBS, ROUND_OPEN, TX_SUBMITTED, proof_done_subject, round_open_id
from zkpot.db.memory import MemoryTrainerRepo
from zkpot.domain import MalformedMessage, Reason, SigningKey, Transaction, open_sealed
from zkpot.domain.errors import Unauthorized
from zkpot.domain.events import ProofDone, RoundOpen
from zkpot.ml.model import weights_from_bytes

from .support import Task, counter, eventually


def _open(task: Task, round_: int = 1, deadline_ms: int = 2**50) -> RoundOpen:
    return RoundOpen(round_, task.genesis.genesis_hash, task.genesis.initial_model_cid, deadline_ms,
                     task.keys.producer.public_hex).sign(task.keys.producer)


def _delivery(subject: str, payload: dict) -> Delivery:
    return Delivery(subject, payload, 1, None, 0, raw=None)  # type: ignore[arg-type]  # a handler called directly


async def test_a_member_trains_gets_its_proof_and_submits_a_signed_tx() -> None:
    async with Task(clients=1) as task:
        await task.initial_model()
        trainer, prover = task.trainer(0), task.prover()
        for service in (trainer, prover):
            await service.start()
        try:
            await task.bus.publish(ROUND_OPEN, _open(task).to_dict(), round_open_id(1))
            submitted = await eventually(lambda: task.payloads(TX_SUBMITTED), "a submitted tx")
        finally:
            for service in (trainer, prover):
                await service.stop()
    tx = Transaction.from_dict(submitted[0])
    assert tx.signature_valid() and tx.client == task.keys.clients[0].public_hex
    assert (tx.round, tx.parent, tx.n_train, tx.samples) == (1, task.genesis.genesis_hash, 12, task.genesis.samples)
    sealed = await task.blobs.get(tx.model_cid, 1 << 20)
    weights = weights_from_bytes(task.arch, open_sealed(sealed, task.keys.aggregator))
    assert tx.commitment == task.system.commitment(weights)  # the aggregator opens what was proven
    row = await trainer.repo.get_round(tx.client, 1)
    assert row is not None and row.status == "submitted" and row.model_cid == tx.model_cid
    assert counter(trainer.metrics, "zkpot_rounds_joined") == 1


async def test_a_proof_for_a_job_it_did_not_queue_is_refused() -> None:
    async with Task(clients=1) as task:
        trainer = task.trainer(0)
        done = ProofDone(job_id="ab" * 32, client=trainer.key.public_hex, round=1, proof_cid="bafy",
                         commitment="cd" * 32, correct=1, samples=task.genesis.samples, finished_ms=1, prove_ms=1,
                         prover=task.keys.prover_signer.public_hex).sign(task.keys.prover_signer)
        with pytest.raises(MalformedMessage, match="did not queue"):
            await trainer.on_proof(_delivery(proof_done_subject("0"), done.to_dict()))


async def test_a_round_past_its_deadline_is_not_joined() -> None:
    async with Task(clients=1) as task:
        trainer = task.trainer(0)
        await trainer.on_round_open(_delivery(ROUND_OPEN, _open(task, deadline_ms=1).to_dict()))
        assert await trainer.repo.get_round(trainer.key.public_hex, 1) is None
        assert task.bus.published(PROVE_JOBS) == []


async def test_a_restarted_trainer_hands_over_the_same_job_without_training_again() -> None:
    async with Task(clients=1) as task:
        await task.initial_model()
        store = MemoryTrainerRepo()
        event = _delivery(ROUND_OPEN, _open(task).to_dict())
        await task.trainer(0, store).on_round_open(event)
        blobs, jobs = len(task.store.blobs), task.payloads(PROVE_JOBS)
        assert len(jobs) == 1 and blobs == 3  # the genesis model, and the model sealed twice

        again = task.trainer(0, store)  # a new process over the same database; the round-open is redelivered
        await again.on_round_open(event)
        assert len(task.store.blobs) == blobs and task.payloads(PROVE_JOBS) == jobs
        row = await store.get_round(again.key.public_hex, 1)
        assert row is not None and row.job == jobs[0] and row.status == "proving"


@pytest.mark.parametrize("forge", ["unsigned", "other_key", "tampered"])
async def test_a_round_not_opened_by_the_genesis_producer_is_refused_and_nothing_happens(forge: str) -> None:
    async with Task(clients=1) as task:
        await task.initial_model()
        trainer, intruder = task.trainer(0), SigningKey.generate()
        event = _open(task)
        if forge == "unsigned":
            event = dataclasses.replace(event, signature="")
        elif forge == "other_key":
            event = dataclasses.replace(event, producer=intruder.public_hex).sign(intruder)
        else:
            event = dataclasses.replace(event, global_model_cid="bafy-someone-elses")
        with pytest.raises(Unauthorized) as refused:
            await trainer.on_round_open(_delivery(ROUND_OPEN, event.to_dict()))
        assert refused.value.reason in (Reason.UNKNOWN_SIGNER, Reason.BAD_SIGNATURE)
        assert await trainer.repo.get_round(trainer.key.public_hex, 1) is None
        assert task.bus.published(PROVE_JOBS) == []


async def test_a_proof_result_not_signed_by_a_genesis_prover_is_refused() -> None:
    async with Task(clients=1) as task:
        trainer, intruder = task.trainer(0), SigningKey.generate()
        done = ProofDone(job_id="ab" * 32, client=trainer.key.public_hex, round=1, proof_cid="bafy",
                         commitment="cd" * 32, correct=16, samples=task.genesis.samples, finished_ms=1, prove_ms=1,
                         prover=intruder.public_hex).sign(intruder)
        with pytest.raises(Unauthorized) as refused:
            await trainer.on_proof(_delivery(proof_done_subject("0"), done.to_dict()))
        assert refused.value.reason is Reason.UNKNOWN_SIGNER
        assert task.bus.published(TX_SUBMITTED) == []


async def test_a_tampered_proof_result_of_a_genesis_prover_is_refused_as_a_bad_signature() -> None:
    async with Task(clients=1) as task:
        trainer, prover = task.trainer(0), task.keys.prover_signer
        done = ProofDone(job_id="ab" * 32, client=trainer.key.public_hex, round=1, proof_cid="bafy",
                         commitment="cd" * 32, correct=1, samples=task.genesis.samples, finished_ms=1, prove_ms=1,
                         prover=prover.public_hex).sign(prover)
        tampered = dataclasses.replace(done, correct=16)
        with pytest.raises(Unauthorized) as refused:
            await trainer.on_proof(_delivery(proof_done_subject("0"), tampered.to_dict()))
        assert refused.value.reason is Reason.BAD_SIGNATURE
