"""One attack class per test, on a small live network (real nats-server, PostgreSQL, gateway, proofs).

Two honest members train and prove; a third registered member is played by this test (the attacker), and so is a
producer whose key was stolen. Each attack must be refused with its reason code and counted, and the round must
still finalize with every honest member's tx exactly once, with no service restarted. The tests run in order on
one network: the gateway and forged proof jobs before round 1 closes, a poisoned model file in round 1, an
equivocating producer and a squatted message id in round 2 (tx-level attacks, forged proposals, poison payloads
and out-of-role publishes are in test_network.py).
"""

from __future__ import annotations

import asyncio
import dataclasses
import io
import time
import zipfile
from collections.abc import AsyncIterator, Callable
from typing import Any

import aiohttp
import pytest
import pytest_asyncio
from numpy.lib import format as npy
from sqlalchemy import select
from zkpot.audit import audit
from zkpot.bus.subjects import prove_subject
from zkpot.db.engine import create_engine
from zkpot.db.producer import ProducerRepo
from zkpot.db.prover import ProverRepo
from zkpot.db.tables import validator_accepted
from zkpot.db.validator import ValidatorRepo
from zkpot.devnet import Devnet, DevnetConfig
from zkpot.domain import Block, BlockHeader, SigningKey, Transaction, merkle_root, seal, sha256_hex
from zkpot.domain.events import Finalized, Proposal, ProveJob
from zkpot.gateway.client import GatewayClient, QuotaExceeded, UploadRefused
from zkpot.gateway.wire import BLOBS, BlobKind, UploadClaim, sign_upload
from zkpot.ml import data as zdata
from zkpot.ml import model as zmodel
from zkpot.roles.client import SealedModel, make_tx
from zkpot.storage.base import cid_of
from zkpot.storage.errors import BlobNotFound
from zkpot.task import Keyring
from zkpot.zk import registry
from zkpot.zk.system import ProofResult, ProofSystem

from .support import Harness, counter, scrape

pytestmark = [pytest.mark.integration, pytest.mark.slow, pytest.mark.asyncio(loop_scope="module")]

HONEST = 2
ATTACKER = 2  # client index played by the test
VALIDATORS = 4
QUOTA_BYTES = 48 * 1024 * 1024  # per uploader and hour: far above what a member stores in two rounds
MAX_BLOB_BYTES = 64 * 1024 * 1024  # the gateway's default cap of every kind
HUGE = (1_000_000, 1_000_000)  # 4 TB of float32, declared by a file of a few hundred bytes


class QuotaDevnet(Devnet):
    """The devnet with a gateway quota small enough to pass with one signed claim (and no body)."""

    def service_env(self, name: str, port: int) -> dict[str, str]:
        env = super().service_env(name, port)
        if name == "ipfs-gateway":
            env["ZKPOT_GATEWAY_QUOTA_BYTES"] = str(QUOTA_BYTES)
        return env


@dataclasses.dataclass
class World:
    net: Devnet
    h: Harness
    keys: Keyring
    proof: ProofResult  # a real proof of the attacker's model A, computed once
    weights_a: zmodel.Weights
    pids: dict[str, int]  # every service process as started
    sent: dict[str, Transaction] = dataclasses.field(default_factory=dict)
    forged: list[Block] = dataclasses.field(default_factory=list)

    @property
    def attacker(self) -> SigningKey:
        return self.keys.clients[ATTACKER]

    async def tx(self, name: str, round_: int, parent: str, model_file: bytes | None = None) -> Transaction:
        """The attacker's tx with the real proof; its sealed model is ``model_file`` (default: model A's)."""
        gateway, proof = self.h.gateway, self.proof
        proof_cid = await gateway.put("proof", proof.proof, signer=self.attacker)
        sealed = seal(model_file or zmodel.weights_to_bytes(self.weights_a), self.net.genesis.aggregator_box_key)
        model_cid = await gateway.put("model", sealed, signer=self.attacker)
        tx = make_tx(self.attacker, round_, parent, commitment=proof.commitment, correct=proof.correct,
                     samples=proof.samples, proof=proof.proof, proof_cid=proof_cid, model=SealedModel(sealed, 300),
                     model_cid=model_cid, now_ms=int(time.time() * 1000) + len(self.sent))
        self.sent[name] = tx
        return tx


@pytest.fixture(scope="module")
def circuit() -> ProofSystem:
    """The network's default proof system (what `make run` uses)."""
    return registry.build(registry.DEFAULT_PIPELINE)


@pytest_asyncio.fixture(scope="module", loop_scope="module")
async def world(circuit: ProofSystem, tmp_path_factory: pytest.TempPathFactory) -> AsyncIterator[World]:
    arch = circuit.arch
    weights_a = zmodel.train(arch, zmodel.init_weights(arch, 1), zdata.client_shard(ATTACKER, 3), epochs=10, seed=7)
    proof = circuit.prove(weights_a)
    net = QuotaDevnet(DevnetConfig(root=tmp_path_factory.mktemp("devnet"), clients=HONEST, validators=VALIDATORS,
                                   rounds=2, epochs=10, deadline_s=300, idle_clients=1), circuit)
    net.prepare()
    h: Harness | None = None
    try:
        net.start_servers()
        net.start_services()
        h = await Harness.connect(net, ATTACKER)
        yield World(net, h, net.keys, proof, weights_a, {p.name: p.popen.pid for p in net.procs})
    finally:
        if h is not None:
            await h.close()
        net.stop()


def _metrics(net: Devnet, service: str) -> dict[str, float]:
    proc = next(p for p in net.procs if p.service == service)
    return scrape(f"http://127.0.0.1:{proc.port}/metrics")


async def _until(what: str, check: Callable[[], Any], net: Devnet, timeout_s: float = 120) -> Any:
    """Poll ``check`` (a metrics scrape, a query) until it holds; fails fast when a service died."""
    deadline = time.monotonic() + timeout_s
    while not (found := check()):
        assert not net.dead(), f"{net.dead()[0].name} exited while waiting for {what}"
        assert time.monotonic() < deadline, f"timed out waiting for {what}"
        await asyncio.sleep(0.5)
    return found


def _block(payload: dict[str, Any]) -> Block:
    return Finalized.from_dict(payload).block


async def _raw_upload(world: World, kind: BlobKind, claimed_size: int) -> tuple[int, str]:
    """A signed upload claiming ``claimed_size`` bytes with a tiny chunked body: the gateway must refuse it from
    the claim alone, before reading a byte (no Content-Length to compare)."""
    body = b"claimed to be large"
    claim = UploadClaim("POST", BLOBS, kind, await cid_of(body), claimed_size, int(time.time() * 1000))

    async def chunks() -> AsyncIterator[bytes]:
        yield body

    async with aiohttp.ClientSession() as session, session.post(
            f"{world.net.gateway_url}{BLOBS}", params={"kind": str(kind)}, data=chunks(),
            headers=sign_upload(world.attacker, claim)) as resp:
        return resp.status, (await resp.json())["error"]


async def test_the_gateway_refuses_outsiders_and_uploads_beyond_a_members_rights(world: World) -> None:
    net, gateway = world.net, world.h.gateway
    await world.h.round_open(1, net)  # every service is up (the producer stored the initial model)
    before = _metrics(net, "ipfs-gateway")
    bodies = {reason: f"attack {reason} {time.time()}".encode() for reason in
              ("unsigned", "unknown_uploader", "stale_timestamp", "kind_not_allowed")}
    stale = GatewayClient(net.gateway_url, clock=lambda: time.time() - 3600)
    attempts = {
        "unsigned": gateway.put("model", bodies["unsigned"]),
        "unknown_uploader": gateway.put("model", bodies["unknown_uploader"], signer=SigningKey.generate()),
        "stale_timestamp": stale.put("model", bodies["stale_timestamp"], signer=world.attacker),
        "kind_not_allowed": gateway.put("global", bodies["kind_not_allowed"], signer=world.attacker),
    }
    statuses = {}
    try:
        for reason, attempt in attempts.items():
            with pytest.raises(UploadRefused) as refused:
                await attempt
            assert not isinstance(refused.value, QuotaExceeded)
            statuses[reason] = (refused.value.status, refused.value.code)
    finally:
        await stale.close()
    assert statuses == {"unsigned": (401, "unsigned"), "unknown_uploader": (403, "unknown_uploader"),
                        "stale_timestamp": (401, "stale_timestamp"), "kind_not_allowed": (403, "kind_not_allowed")}
    assert await _raw_upload(world, BlobKind.MODEL, MAX_BLOB_BYTES + 1) == (413, "blob_too_large")
    assert await _raw_upload(world, BlobKind.MODEL, QUOTA_BYTES + 1) == (429, "quota_exceeded")
    for body in [*bodies.values(), b"claimed to be large"]:  # nothing was stored
        with pytest.raises(BlobNotFound):
            await gateway.get(await cid_of(body), 1024)
    after = _metrics(net, "ipfs-gateway")
    for reason in (*statuses, "blob_too_large", "quota_exceeded"):
        name = "zkpot_gateway_refusals_total"
        assert counter(after, name, reason=reason) - counter(before, name, reason=reason) == 1, reason
    assert await gateway.put("model", b"a member's own upload still works", signer=world.attacker)


async def test_forged_proof_jobs_are_refused_by_the_prover(world: World) -> None:
    """On its own jobs subject, the attacker sends a job signed by another key, a job of a key not in genesis, and
    its own signed job naming another member: the prover stores none of them and counts each reason."""
    net, h = world.net, world.h
    opened = await h.round_open(1, net)
    weights_cid = await h.gateway.put("model", b"not a sealed model", signer=world.attacker)
    outsider = SigningKey.generate()

    def job(client: SigningKey, member: str, signer: SigningKey) -> ProveJob:
        unsigned = ProveJob(job_id=sha256_hex(f"forged {client.public_hex} {member}".encode()),
                            client=client.public_hex, member=member, round=1, parent=opened["parent"],
                            weights_cid=weights_cid)
        return dataclasses.replace(unsigned, signature=signer.sign(unsigned.signing_payload()))

    forged = {"bad_signature": job(world.attacker, str(ATTACKER), outsider),
              "unknown_client": job(outsider, str(ATTACKER), outsider),
              "wrong_subject": job(world.attacker, "0", world.attacker)}
    subject = prove_subject(str(ATTACKER))
    for j in forged.values():
        await h.member.publish(subject, j.to_dict(), j.job_id)

    def counted() -> bool:
        samples = _metrics(net, "prover")
        return all(counter(samples, "zkpot_messages_malformed_total", reason=reason, subject=subject) == 1
                   for reason in forged)

    await _until("the prover to refuse the forged jobs", counted, net)
    engine = create_engine(net.database_url)
    try:
        jobs = ProverRepo(engine)
        for j in forged.values():
            assert await jobs.get(j.job_id) is None
    finally:
        await engine.dispose()


def _poisoned_model() -> bytes:
    """An .npz of the right member names, each declaring a 4 TB array in a few bytes."""
    buf = io.BytesIO()
    with zipfile.ZipFile(buf, "w") as zf:
        for name in zmodel.init_weights(zmodel.Arch(), 1):
            member = io.BytesIO()
            npy.write_array_header_1_0(member, {"descr": "<f4", "fortran_order": False, "shape": HUGE})
            zf.writestr(f"{name}.npy", member.getvalue())
    return buf.getvalue()


async def test_a_poisoned_model_file_is_dropped_and_the_round_finalizes(world: World) -> None:
    """A real proof, but the sealed model is a tiny file declaring a huge shape: validators attest the proof, the
    producer cannot open the model and drops the tx (model_unavailable) without allocating it."""
    net, h = world.net, world.h
    opened = await h.round_open(1, net)
    poisoned = await world.tx("poisoned_model", 1, opened["parent"], model_file=_poisoned_model())
    await h.submit(poisoned)
    final = _block(await h.final(1, net))
    assert sorted(tx.client for tx in final.txs) == sorted(k.public_hex for k in world.keys.clients[:HONEST])
    assert {r.tx_id: r.reason for r in final.rejected} == {poisoned.tx_id: "model_unavailable"}
    assert not net.dead(), [p.name for p in net.dead()]


def _forged(world: World, head: BlockHeader, timestamp_ms: int) -> Block:
    """A producer-signed block at the next height (the wrong leader: no honest validator may accept it)."""
    header = dataclasses.replace(
        head, height=head.height + 1, round=head.round + 1, prev_hash=head.block_hash, timestamp_ms=timestamp_ms,
        leader_client=world.attacker.public_hex, leader_tx="ab" * 32, leader_correct=head.samples,
        tx_root=merkle_root([]), accepted=0, rejected=0)
    return Block.create(header, [], [], world.keys.producer)


async def test_an_equivocating_producer_leaves_evidence_and_no_second_vote(world: World) -> None:
    """With the stolen producer key, two different blocks for height 2 before the honest one: every validator
    refuses both, keeps the second as evidence (reason equivocation, stored and counted), and accepts only the
    honest block at that height once the round closes (checked at the end)."""
    net, h = world.net, world.h
    await h.round_open(2, net)
    head = _block(h.events.of("zkpot.block.finalized")[-1]).header
    now = int(time.time() * 1000)
    world.forged = [_forged(world, head, now), _forged(world, head, now + 1)]
    for block in world.forged:
        await h.producer.publish("zkpot.block.proposed", Proposal.of(block, {}).to_dict(), f"proposed-{block.hash}")
    hashes = {b.hash for b in world.forged}
    votes = await h.events.wait_for(
        "votes on the forged blocks",
        lambda: (lambda v: v if len(v) == 2 * VALIDATORS else None)(
            [p for p in h.events.of("zkpot.block.vote") if p["block_hash"] in hashes]), 120, net)
    assert {(v["block_hash"], v["accept"], v["reason"]) for v in votes} == {(x, False, "wrong_leader") for x in hashes}
    first, second = world.forged
    engine = create_engine(net.database_url)
    try:
        repo = ValidatorRepo(engine)
        for key in world.keys.validators:
            evidence = await repo.evidence(key.public_hex)
            assert [(e.hash, e.height, e.conflicts_with) for e in evidence] == [(second.hash, 2, first.hash)]
            assert ("zkpot.block.proposed", second.hash, 2, "equivocation") in await repo.rejections(key.public_hex)
    finally:
        await engine.dispose()
    for proc in (p for p in net.procs if p.service == "validator"):
        samples = scrape(f"http://127.0.0.1:{proc.port}/metrics")
        assert counter(samples, "zkpot_tx_rejected_total", reason="equivocation") == 1, proc.name


async def test_a_squatted_message_id_does_not_suppress_the_real_tx(world: World) -> None:
    """Before its tx goes out, the attacker publishes other bytes under the tx's logical id, both as the raw id
    and bound to those bytes: the ids are bound to the content, so the real tx is stored, attested and included."""
    net, h = world.net, world.h
    opened = await h.round_open(2, net)
    tx = await world.tx("squatted", 2, opened["parent"])  # C_A was dropped in round 1 (poisoned model): still fresh
    subject = "zkpot.tx.submitted"
    assert await h.member.publish_bytes(subject, b"squatting", tx.tx_id, exact_id=True)
    assert await h.member.publish_bytes(subject, b"squatting", tx.tx_id)
    assert await h.member.publish(subject, tx.to_dict(), tx.tx_id)  # not dropped as a duplicate
    final = _block(await h.final(2, net))
    assert tx.tx_id in {t.tx_id for t in final.txs}
    assert not final.rejected
    engine = create_engine(net.database_url)
    try:
        assert tx.tx_id in {t.tx_id for t in await ProducerRepo(engine).txs_for_round(2)}
        repo = ValidatorRepo(engine)
        for key in world.keys.validators:
            verdict = await repo.verdict(key.public_hex, tx.tx_id)
            assert verdict is not None and verdict.valid, key.public_hex[:8]
    finally:
        await engine.dispose()


async def test_no_service_restarted_and_the_chain_audits_clean(world: World, circuit: ProofSystem) -> None:
    net, h = world.net, world.h
    assert not net.dead(), [p.name for p in net.dead()]
    assert {p.name: p.popen.pid for p in net.procs} == world.pids
    finals = [Finalized.from_dict(p) for p in h.events.of("zkpot.block.finalized")]
    assert [f.block.header.height for f in finals] == [1, 2]
    for key in world.keys.clients[:HONEST]:
        mine = [(f.block.header.round, tx.tx_id) for f in finals for tx in f.block.txs if tx.client == key.public_hex]
        assert sorted(r for r, _ in mine) == [1, 2] and len({t for _, t in mine}) == 2, key.public_hex[:8]
    engine = create_engine(net.database_url)
    try:  # one accepting vote per validator and height, always for the final block
        async with engine.connect() as conn:
            accepted = (await conn.execute(select(validator_accepted.c.validator, validator_accepted.c.height,
                                                  validator_accepted.c.block_hash))).all()
    finally:
        await engine.dispose()
    final_at = {f.block.header.height: f.block.hash for f in finals}
    assert sorted((v, hgt) for v, hgt, _ in accepted) == sorted(
        (k.public_hex, hgt) for k in world.keys.validators for hgt in final_at)
    assert all(block_hash == final_at[hgt] for _, hgt, block_hash in accepted)
    producer = _metrics(net, "block-producer")
    assert counter(producer, "zkpot_tx_rejected_total", reason="model_unavailable") == 1
    assert counter(producer, "zkpot_blocks_finalized_total") == 2

    blobs: dict[str, bytes] = {}
    for f in finals:
        for cid in [f.block.header.model_cid] + [tx.proof_cid for tx in f.block.txs]:
            blobs[cid] = await h.gateway.get(cid, 64 * 1024 * 1024)
    report = audit(net.genesis, finals, blobs.get, circuit)
    assert report.ok, report.to_dict()
    assert [b.proofs_verified for b in report.blocks] == [HONEST, HONEST + 1]
