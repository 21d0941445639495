"""The whole network as separate processes (real nats-server, PostgreSQL, proofs), attacked while it runs.

Three honest members train and prove; a fourth registered member is played by this test and submits every kind
of bad transaction; a validator and the prover are SIGKILLed mid-round and restarted; forged block proposals are
published under the producer's key. The tests run in order on one network (about ten minutes on 2 cores).
"""

from __future__ import annotations

import dataclasses
import json
import random
import time
from pathlib import Path
from typing import Any

import pytest
import pytest_asyncio
from zkpot.audit import audit
from zkpot.bus import BusUnavailable, JetStreamBus
from zkpot.bus.errors import NotPermitted
from zkpot.db.engine import create_engine
from zkpot.db.producer import ProducerRepo
from zkpot.db.prover import ProverRepo
from zkpot.db.validator import ValidatorRepo
from zkpot.devnet import Devnet, DevnetConfig
from zkpot.domain import Block, BlockHeader, SigningKey, Transaction, merkle_root, seal, sha256_hex
from zkpot.domain.events import Finalized, Proposal
from zkpot.ml import data as zdata
from zkpot.ml import model as zmodel
from zkpot.roles.client import SealedModel, make_tx
from zkpot.task import Keyring
from zkpot.zk import registry
from zkpot.zk.system import ProofResult, ProofSystem

from .support import Harness, counter, scrape

pytestmark = [pytest.mark.integration, pytest.mark.slow, pytest.mark.asyncio(loop_scope="module")]

# Payloads no validator may choke on (each was a stall or a crash before bounds and terminal decoding).
POISON = (b"[" * 200_000 + b"]" * 200_000, b"\xff\xfe not json",
          json.dumps({"round": 2, "client": "ab" * 5000}).encode())
HONEST = 3
ATTACKER = 3  # client index played by the test


@dataclasses.dataclass
class World:
    net: Devnet
    h: Harness
    keys: Keyring
    proof: ProofResult  # a real proof of the attacker's model A
    weights_a: zmodel.Weights
    weights_b: zmodel.Weights
    sent: dict[str, Transaction] = dataclasses.field(default_factory=dict)
    forged: set[str] = dataclasses.field(default_factory=set)

    @property
    def attacker(self) -> SigningKey:
        return self.keys.clients[ATTACKER]

    async def sealed(self, weights: zmodel.Weights) -> tuple[SealedModel, str]:
        data = seal(zmodel.weights_to_bytes(weights), self.net.genesis.aggregator_box_key)
        return SealedModel(data, 300), await self.h.gateway.put("model", data, signer=self.attacker)

    async def tx(self, name: str, round_: int, parent: str, *, proof: bytes | None = None, weights=None,  # noqa: ANN001
                 correct: int | None = None) -> Transaction:
        proof = proof or self.proof.proof
        proof_cid = await self.h.gateway.put("proof", proof, signer=self.attacker)
        model, model_cid = await self.sealed(weights or self.weights_a)
        tx = make_tx(self.attacker, round_, parent, commitment=self.proof.commitment,
                     correct=self.proof.correct if correct is None else correct, samples=self.proof.samples,
                     proof=proof, proof_cid=proof_cid, model=model, model_cid=model_cid,
                     now_ms=int(time.time() * 1000) + len(self.sent))
        self.sent[name] = tx
        return tx


@pytest.fixture(scope="module")
def circuit() -> ProofSystem:
    """The network's default proof system (what `make run` uses)."""
    return registry.build(registry.DEFAULT_PIPELINE)


@pytest_asyncio.fixture(scope="module", loop_scope="module")
async def world(circuit: ProofSystem, tmp_path_factory: pytest.TempPathFactory):  # noqa: ANN201
    arch = circuit.arch
    weights_a = zmodel.train(arch, zmodel.init_weights(arch, 1), zdata.client_shard(3, 4), epochs=10, seed=7)
    proof = circuit.prove(weights_a)
    net = Devnet(DevnetConfig(root=tmp_path_factory.mktemp("devnet"), clients=HONEST, validators=4, rounds=3,
                              epochs=10, deadline_s=400, idle_clients=1), circuit)
    net.prepare()
    h: Harness | None = None
    try:
        net.start_servers()
        net.start_services()
        h = await Harness.connect(net, ATTACKER)
        yield World(net, h, net.keys, proof, weights_a, zmodel.init_weights(arch, 99))
    finally:
        if h is not None:
            await h.close()
        net.stop()


def _tampered(proof: bytes) -> bytes:
    """One byte of the (first) ezkl proof flipped, the JSON kept consistent: a plain proof or a chunk bundle."""
    outer = json.loads(proof)
    doc = outer["chunks"][0] if "chunks" in outer else outer
    doc["proof"][300] ^= 1
    doc["hex_proof"] = "0x" + bytes(doc["proof"]).hex()
    return json.dumps(outer, separators=(",", ":")).encode()


def _other_count(proof: ProofResult) -> int:
    return proof.correct + 1 if proof.correct < proof.samples else proof.correct - 1


def _block(payload: dict[str, Any]) -> Block:
    return Finalized.from_dict(payload).block


async def test_round_one_survives_attacks_and_restarts(world: World) -> None:
    net, h = world.net, world.h
    opened = await h.round_open(1, net)
    parent = opened["parent"]
    await h.submit(await world.tx("tampered_proof", 1, parent, proof=_tampered(world.proof.proof)))
    await h.submit(await world.tx("claim_mismatch", 1, parent, correct=_other_count(world.proof)))
    forged = await world.tx("bad_signature", 1, parent)
    outsider = SigningKey.generate()
    forged = dataclasses.replace(forged, signature=outsider.sign(forged.signing_payload()))
    world.sent["bad_signature"] = forged
    await h.submit(forged)
    await h.submit(await world.tx("model_mismatch", 1, parent, weights=world.weights_b))

    net.restart("validator-1")  # SIGKILL in the middle of judging the attacker's txs
    await h.events.wait_for("a first proof", lambda: h.events.of("zkpot.proof.done"), 600, net)
    net.restart("prover-0")  # SIGKILL while it proves the next job

    final = _block(await h.final(1, net))
    honest = {k.public_hex for k in world.keys.clients[:HONEST]}
    assert {tx.client for tx in final.txs} == honest
    rejected = {r.tx_id: r.reason for r in final.rejected}
    assert rejected == {world.sent["tampered_proof"].tx_id: "proof_invalid",
                        world.sent["claim_mismatch"].tx_id: "claim_mismatch",
                        world.sent["model_mismatch"].tx_id: "model_commitment_mismatch"}
    engine = create_engine(net.database_url)
    try:  # the forged tx never reached the producer's store, nor the block: it was dropped with its reason
        refusals = await ProducerRepo(engine).rejections()
        assert ("zkpot.tx.submitted", forged.tx_id, 1, "bad_signature") in refusals
    finally:
        await engine.dispose()


async def test_no_transaction_lost_or_duplicated_after_the_restarts(world: World) -> None:
    net = world.net
    submitted = [Transaction.from_dict(p) for p in world.h.events.of("zkpot.tx.submitted")]
    honest = world.keys.clients[:HONEST]
    for key in honest:
        ids = {tx.tx_id for tx in submitted if tx.client == key.public_hex and tx.round == 1}
        assert len(ids) == 1, f"client {key.public_hex[:8]} submitted {len(ids)} distinct txs in round 1"
    engine = create_engine(net.database_url)
    try:
        jobs = ProverRepo(engine)
        for key in honest:
            from zkpot.services.trainer import job_id

            job = await jobs.get(job_id(key.public_hex, 1))
            assert job is not None and job.status == "done"
        validators = ValidatorRepo(engine)
        round_one = {tx.tx_id for tx in submitted if tx.round == 1}
        for key in world.keys.validators:  # the restarted replica judged every tx too
            judged = {v.tx_id for v in await validators.txs_seen_in_round(key.public_hex, 1)}
            assert judged == round_one, key.public_hex[:8]
        txs = await ProducerRepo(engine).txs_for_round(1)
        stored = round_one - {world.sent["bad_signature"].tx_id}  # the producer drops a forged tx unstored
        assert len(txs) == len({t.tx_id for t in txs}) == len(stored)
    finally:
        await engine.dispose()


async def test_round_two_duplicate_and_replay_are_refused(world: World) -> None:
    net, h = world.net, world.h
    opened = await h.round_open(2, net)
    valid = await world.tx("reused_after_drop", 2, opened["parent"])  # C_A was dropped in round 1: still fresh
    await h.submit(valid)
    await h.submit(await world.tx("second_tx", 2, opened["parent"]))
    replay = world.sent["model_mismatch"]
    await h.submit(replay, msg_id=f"replay-{replay.tx_id}")
    for i, poison in enumerate(POISON):  # every validator drops each at once, and the round goes on
        await h.member.publish_bytes("zkpot.tx.submitted", poison, f"poison-{i}")
    final = _block(await h.final(2, net))
    assert valid.tx_id in {tx.tx_id for tx in final.txs}
    assert {r.tx_id: r.reason for r in final.rejected} == {world.sent["second_tx"].tx_id: "duplicate_client_tx"}
    engine = create_engine(net.database_url)
    try:
        for key in world.keys.validators:
            refusals = await ValidatorRepo(engine).rejections(key.public_hex)
            assert ("zkpot.tx.submitted", replay.tx_id, 2, "wrong_round") in refusals
    finally:
        await engine.dispose()


async def test_round_three_reused_commitment_and_forged_blocks(world: World) -> None:
    net, h = world.net, world.h
    opened = await h.round_open(3, net)
    head = _block(h.events.of("zkpot.block.finalized")[-1]).header
    wrong_leader = _forged(world, head, leader=True)
    garbage = _forged(world, head, model=await _garbage_model(world))
    world.forged = {wrong_leader.hash, garbage.hash}
    for block in (wrong_leader, garbage):
        await h.producer.publish("zkpot.block.proposed", Proposal.of(block, {}).to_dict(), f"proposed-{block.hash}")
    votes = await h.events.wait_for(
        "votes on the forged blocks",
        lambda: (lambda v: v if len(v) == 8 else None)(
            [p for p in h.events.of("zkpot.block.vote") if p["block_hash"] in (wrong_leader.hash, garbage.hash)]),
        300, net)
    assert {(v["block_hash"], v["accept"], v["reason"]) for v in votes} == {
        (wrong_leader.hash, False, "wrong_leader"), (garbage.hash, False, "global_accuracy_mismatch")}

    reused = await world.tx("reused_commitment", 3, opened["parent"])
    await h.submit(reused)
    final = _block(await h.final(3, net))
    assert final.hash not in (wrong_leader.hash, garbage.hash)
    assert {r.tx_id: r.reason for r in final.rejected} == {reused.tx_id: "reused_commitment"}
    assert len(final.txs) == HONEST


def _forged(world: World, head: BlockHeader, *, leader: bool = False, model: tuple[str, str, int] | None = None):  # noqa: ANN202
    cid, sha, correct = model or (head.model_cid, head.model_sha256, head.global_correct)
    header = dataclasses.replace(
        head, height=head.height + 1, round=head.round + 1, prev_hash=head.block_hash, timestamp_ms=int(time.time()),
        leader_client=world.attacker.public_hex if leader else "", leader_tx="ab" * 32 if leader else "",
        leader_correct=head.samples if leader else 0, tx_root=merkle_root([]), accepted=0, rejected=0, model_cid=cid,
        model_sha256=sha, global_correct=head.global_correct if model else correct)
    return Block.create(header, [], [], world.keys.producer)


async def _garbage_model(world: World) -> tuple[str, str, int]:
    rng = random.Random(5)
    weights = {k: v * 0 + rng.uniform(-3, 3) for k, v in zmodel.init_weights(zmodel.Arch(), 5).items()}
    data = zmodel.weights_to_bytes(weights)
    return await world.h.gateway.put("global", data, signer=world.keys.producer), sha256_hex(data), 0


async def test_the_network_refuses_outsiders_and_members_out_of_their_role(world: World) -> None:
    """Nothing but the NATS URL gets no connection; the member the test plays cannot publish another role's
    events (a round opening, a finality claim, an attestation) nor another member's proof jobs."""
    with pytest.raises(BusUnavailable, match="(?i)authorization violation"):
        await JetStreamBus.connect(world.net.nats_url, name="outsider", timeout_s=10)
    for subject in ("zkpot.round.open", "zkpot.block.finalized", "zkpot.tx.attested", "zkpot.jobs.prove.0"):
        with pytest.raises(NotPermitted):
            await world.h.member.publish(subject, {"forged": True}, f"forged-{subject}")


async def test_no_service_crashed_and_rejections_were_stored_and_counted(world: World) -> None:
    net = world.net
    assert not net.dead(), [p.name for p in net.dead()]
    round_one = {"proof_invalid", "claim_mismatch", "bad_signature"}
    later = {"duplicate_client_tx", "reused_commitment", "wrong_round"}
    for proc in (p for p in net.procs if p.service == "validator"):
        samples = scrape(f"http://127.0.0.1:{proc.port}/metrics")
        # validator-1 was killed during round 1: its counters restarted from zero, its database kept everything
        for reason in (later if proc.name == "validator-1" else round_one | later):
            assert counter(samples, "zkpot_tx_rejected_total", reason=reason) >= 1, (proc.name, reason)
        for reason in ("wrong_leader", "global_accuracy_mismatch"):
            assert counter(samples, "zkpot_block_votes_total", reason=reason) == 1, (proc.name, reason)
        for reason in ("too_deep", "not_json", "handler"):  # POISON: nested, not JSON, a field out of bounds
            assert counter(samples, "zkpot_messages_malformed_total", reason=reason,  # labels in sorted order
                           subject="zkpot.tx.submitted") >= 1, (proc.name, reason)
    engine = create_engine(net.database_url)
    try:
        repo = ValidatorRepo(engine)
        for key in world.keys.validators:
            stored = {v.reason for r in (1, 2, 3) for v in await repo.txs_seen_in_round(key.public_hex, r)}
            assert round_one | {"duplicate_client_tx", "reused_commitment"} <= stored, key.public_hex[:8]
            for block_hash in world.forged:
                row = await repo.block(key.public_hex, block_hash)
                assert row is not None and row.status == "refused"
    finally:
        await engine.dispose()
    producer = next(p for p in net.procs if p.service == "block-producer")
    samples = scrape(f"http://127.0.0.1:{producer.port}/metrics")
    assert counter(samples, "zkpot_tx_rejected_total", reason="model_commitment_mismatch") == 1
    assert counter(samples, "zkpot_blocks_finalized_total") == 3


async def test_the_chain_audits_clean_and_a_forgery_fails(world: World, circuit: ProofSystem,
                                                          tmp_path: Path) -> None:
    finals = [Finalized.from_dict(p) for p in world.h.events.of("zkpot.block.finalized")]
    blobs: dict[str, bytes] = {}

    async def prefetch() -> None:
        for f in finals:
            cids = [f.block.header.model_cid] + [tx.proof_cid for tx in f.block.txs]
            for cid in cids:
                blobs[cid] = await world.h.gateway.get(cid, 64 * 1024 * 1024)

    await prefetch()
    report = audit(world.net.genesis, finals, blobs.get, circuit)
    assert report.ok, report.to_dict()
    assert [b.proofs_verified for b in report.blocks] == [HONEST, HONEST + 1, HONEST]
    forged = dataclasses.replace(finals[1].block.header, global_correct=finals[1].block.header.global_correct - 1)
    bad = dataclasses.replace(finals[1], proposal=dataclasses.replace(
        finals[1].proposal, block=dataclasses.replace(finals[1].block, header=forged)))
    assert not audit(world.net.genesis, [finals[0], bad, finals[2]], blobs.get, circuit).ok


async def test_a_real_prometheus_scrapes_the_network_with_the_charts_settings(world: World, tmp_path: Path) -> None:
    """The chart's scrape settings (tools/k8s/promconfig.py), adapted to the devnet's loopback ports."""
    from tests.k8s.prometheus import running
    from tools.k8s.promconfig import chart_values, merge, prometheus_config

    targets: dict[str, list[str]] = {}
    for proc in world.net.procs:
        targets.setdefault(proc.service, []).append(f"127.0.0.1:{proc.port}")
    values = merge(chart_values(), {"monitoring": {"podMonitor": {"interval": "1s", "scrapeTimeout": "1s"}}})
    with running(prometheus_config(values, targets), tmp_path) as prom:
        proofs = prom.wait_for('zkpot_proof_seconds_count{component="prover"} > 0')
        p95 = prom.wait_for('histogram_quantile(0.95, sum by (le) (zkpot_proof_seconds_bucket{component="prover"}))')
        finalized = prom.wait_for('zkpot_blocks_finalized_total{component="block-producer"}')
        height = prom.wait_for('max(zkpot_chain_height{component="validator"})')
        verify = prom.wait_for('sum(zkpot_verify_seconds_count{component="validator"})')
    assert proofs and float(proofs[0]["value"][1]) >= HONEST * 2  # the restarted prover counts from zero
    assert p95 and float(p95[0]["value"][1]) > 0
    assert [s["value"][1] for s in finalized] == ["3"]
    assert [s["value"][1] for s in height] == ["3"]
    assert verify and float(verify[0]["value"][1]) > 0


async def test_sigterm_stops_every_service_cleanly(world: World) -> None:
    """Last: SIGTERM in the devnet's order; every service finishes what it holds, drains NATS and exits 0."""
    world.net.stop()
    codes = {p.name: p.popen.returncode for p in world.net.procs}
    assert codes == {name: 0 for name in codes}, codes
