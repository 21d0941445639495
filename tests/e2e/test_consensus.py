"""No trusted party, on a live network (real nats-server with nkeys, PostgreSQL, gateway, fast-circuit proofs):
each member runs a producer and masks its model; the proven-best member's producer proposes; validators accept a
block only when its global model is the aggregate of exactly its txs (docs/consensus.md).

Round 1 loses two members: A is SIGKILLed right after its tx (after its proof, before its masked vector), B right
after its masked vector. The round finalizes on the survivors B, C, D; A's tx is listed as dropped. Both come back
for round 2, which everyone joins. Then: no service holds a key that opens a member's model, the masked vectors
look uniform in the field, every member's weights are found nowhere in the blob store, `zkpot chain verify`
re-checks every aggregate from the chain alone, and it fails on a forged aggregate even when a quorum signs it.
"""

from __future__ import annotations

import asyncio
import dataclasses
import json
import os
import time
from collections.abc import AsyncIterator, Callable
from typing import Any

import pytest
import pytest_asyncio
from scipy import stats
from zkpot.audit import audit
from zkpot.devnet import Devnet, DevnetConfig
from zkpot.domain import Block, BoxKeyPair, Reason, Vote, open_sealed
from zkpot.domain.errors import SealError
from zkpot.domain.events import Finalized
from zkpot.domain.secagg import R, decode_vector, encode_vector, lift, to_field
from zkpot.domain.verifiable import aggregate_holds, integer_weight
from zkpot.ml.model import weights_from_bytes, weights_to_bytes
from zkpot.roles.validator import aggregate_layout
from zkpot.services.masking import own_box
from zkpot.storage.local import LocalStore
from zkpot.zk import registry
from zkpot.zk.system import ProofSystem

from .support import Harness

pytestmark = [pytest.mark.integration, pytest.mark.slow, pytest.mark.asyncio(loop_scope="module")]

CLIENTS, VALIDATORS = 4, 4
A, B = 0, 1  # A dies after its proof, B after its masked vector
MAX_BLOB = 64 * 1024 * 1024


@dataclasses.dataclass
class World:
    net: Devnet
    h: Harness
    finals: list[dict]


@pytest.fixture(scope="module")
def circuit() -> ProofSystem:
    return registry.build(registry.DEFAULT_PIPELINE)


@pytest_asyncio.fixture(scope="module", loop_scope="module")
async def world(circuit: ProofSystem, tmp_path_factory: pytest.TempPathFactory) -> AsyncIterator[World]:
    config = DevnetConfig(root=tmp_path_factory.mktemp("devnet"), clients=CLIENTS, validators=VALIDATORS, rounds=2,
                          epochs=10, deadline_s=240, member_producers=True, view_timeout_s=20, secagg_threshold=2)
    net = Devnet(config, circuit)
    net.prepare()
    h: Harness | None = None
    try:
        net.start_servers()
        net.start_services()
        h = await Harness.connect(net, 2)
        a_key, b_key = (net.keys.clients[i].public_hex for i in (A, B))
        await h.events.wait_for("A's tx", lambda: any(p["client"] == a_key for p in h.events.of("zkpot.tx.submitted")),
                                600, net)
        _stop(net, f"trainer-{A}")  # SIGKILLed after its proof; back for round 2 only
        await _wait(h, net, "B's masked vector",
                    lambda: any(p["client"] == b_key for p in h.events.of("zkpot.secagg.masked")))
        _stop(net, f"trainer-{B}")
        first = await _wait(h, net, "block 1", lambda: _final(h, 1))
        for i in (A, B):
            net.restart(f"trainer-{i}", kill=False)
        second = await h.final(2, net)
        yield World(net, h, [first, second])
    finally:
        if h is not None:
            await h.close()
        net.stop()


def _final(h: Harness, height: int) -> dict | None:
    return next((p for p in h.events.of("zkpot.block.finalized")
                 if p["proposal"]["block"]["header"]["height"] == height), None)


async def _wait(h: Harness, net: Devnet, what: str, found: Callable[[], Any], timeout_s: float = 900) -> Any:
    """Like ``Collector.wait_for``, with the trainers this test killed allowed to be dead."""
    killed = {f"trainer-{A}", f"trainer-{B}"}
    deadline = time.monotonic() + timeout_s
    while not (result := found()):
        dead = [p.name for p in net.dead() if p.name not in killed]
        assert not dead, f"{dead[0]} exited while waiting for {what}"
        assert time.monotonic() < deadline, f"timed out waiting for {what}"
        await asyncio.sleep(0.5)
    return result


def _stop(net: Devnet, name: str) -> None:
    """SIGKILL the process (the devnet keeps its settings, so ``restart(kill=False)`` brings it back)."""
    proc = next(p for p in net.procs if p.name == name)
    proc.popen.kill()
    proc.popen.wait()


def _blocks(world: World) -> list[Block]:
    return [Finalized.from_dict(f).block for f in world.finals]


async def test_the_round_with_two_dropouts_aggregates_exactly_the_survivors(world: World,
                                                                          circuit: ProofSystem) -> None:
    block = _blocks(world)[0]
    keys = world.net.keys
    included = {tx.client for tx in block.txs}
    assert included == {keys.clients[i].public_hex for i in (1, 2, 3)}  # B's vector counts: it died after it
    assert [(r.client, r.reason) for r in block.rejected] == [(keys.clients[A].public_hex, Reason.MODEL_UNAVAILABLE)]
    layout = aggregate_layout(world.net.genesis)
    summed = lift(decode_vector(await world.h.gateway.get(block.header.aggregate_cid, MAX_BLOB), layout.elements))
    weights = [integer_weight(tx.n_train, tx.correct, world.net.genesis.aggregation) for tx in block.txs]
    assert aggregate_holds([tx.commitment for tx in block.txs], weights, layout.c0, circuit.commit_message(summed))


async def test_both_rounds_are_led_by_the_proven_best_member_and_everyone_joins_round_2(world: World) -> None:
    for block in _blocks(world):
        best = max(block.txs, key=lambda tx: (tx.correct, -int(tx.tx_id, 16)))
        assert block.header.leader_client == best.client and block.header.producer == ""
        assert block.proposer in world.net.genesis.producers
    assert len(_blocks(world)[1].txs) == CLIENTS


def _x25519_keys(net: Devnet) -> dict[str, BoxKeyPair]:
    """Every X25519 private key the deployment's key folder holds (what some service could load)."""
    found = {}
    for path in sorted((net.root / "keys").glob("*.key")):
        try:
            found[path.name] = BoxKeyPair.from_hex(path.read_text().strip())
        except Exception:  # Ed25519 seeds are 32 bytes too: they open nothing sealed to a box key anyway
            continue
    return found


async def test_no_service_holds_a_key_that_opens_a_members_model(world: World) -> None:
    net = world.net
    assert net.genesis.aggregator_box_key == "" and net.genesis.producer == ""
    producers = [p for p in net.procs if p.service == "block-producer"]
    assert len(producers) == CLIENTS and not any("ZKPOT_AGGREGATOR_KEY_FILE" in p.extra for p in producers)
    provers = {f"prover-{i}.key" for i in range(CLIENTS)} | {"prover.key"}
    keys = {name: k for name, k in _x25519_keys(net).items() if name not in provers}  # a member's own prover may
    for tx in (tx for block in _blocks(world) for tx in block.txs):
        sealed = await world.h.gateway.get(tx.model_cid, MAX_BLOB)
        for key in keys.values():
            with pytest.raises(SealError):
                open_sealed(sealed, key)
        member = net.keys.clients[net.genesis.clients.index(tx.client)]
        assert weights_from_bytes(circuit_arch(net), open_sealed(sealed, own_box(member)))  # only its own key


def circuit_arch(net: Devnet):  # noqa: ANN201 - the task's architecture
    from zkpot.ml.model import Arch

    return Arch(tuple(int(n) for n in net.genesis.arch["layers"]))


async def test_masked_vectors_are_uniform_in_the_field_and_no_blob_holds_a_members_weights(world: World) -> None:
    net, layout = world.net, aggregate_layout(world.net.genesis)
    masked = world.h.events.of("zkpot.secagg.masked")
    assert len(masked) >= 2 * CLIENTS - 1  # A never masked in round 1
    elements: list[int] = []
    for m in masked:
        elements += decode_vector(await world.h.gateway.get(m["vector_cid"], MAX_BLOB), layout.elements)
    buckets = [0] * 16
    for e in elements:
        buckets[e * 16 // R] += 1
    assert stats.chisquare(buckets).pvalue > 1e-4
    assert stats.kstest([e / R for e in elements], "uniform").pvalue > 1e-4
    # a member's own weights, opened with its own key, appear in no stored blob (in the clear or as a message)
    blobs = [path.read_bytes() for path in (net.root / "blobs").rglob("*") if path.is_file()]
    for block in _blocks(world):
        for tx in block.txs:
            member = net.keys.clients[net.genesis.clients.index(tx.client)]
            sealed = await world.h.gateway.get(tx.model_cid, MAX_BLOB)
            weights = weights_from_bytes(circuit_arch(net), open_sealed(sealed, own_box(member)))
            clear = weights_to_bytes(weights)
            assert not any(clear in blob for blob in blobs)


async def test_chain_verify_rechecks_every_aggregate_and_fails_on_a_forged_one(world: World,
                                                                            circuit: ProofSystem) -> None:
    net = world.net
    finals = [Finalized.from_dict(f) for f in world.finals]

    store = LocalStore(net.root / "blobs")

    def fetch(cid: str) -> bytes | None:
        path = store.path_of(cid)
        return path.read_bytes() if path.exists() else None

    report = audit(net.genesis, finals, fetch, circuit)
    assert report.ok, report.to_dict()
    # a quorum of validators (their keys stolen) signs a block whose aggregate is another model's
    forged_block, blob = await _forged(world, finals[1].block, circuit)
    votes = tuple(Vote(forged_block.hash, forged_block.header.height, k.public_hex, True, Reason.OK).sign(k)
                  for k in net.keys.validators)
    forged = dataclasses.replace(finals[1], proposal=dataclasses.replace(finals[1].proposal, block=forged_block),
                                 votes=votes)
    extra = {forged_block.header.aggregate_cid: blob}
    report = audit(net.genesis, [finals[0], forged], lambda cid: extra.get(cid) or fetch(cid), circuit)
    assert not report.ok
    assert any("aggregate" in p for p in report.blocks[1].problems), report.to_dict()


async def _forged(world: World, block: Block, circuit: ProofSystem) -> tuple[Block, bytes]:
    """The block with its aggregate S replaced by S + 1 in one element (its hash and commitment claim updated)."""
    layout = aggregate_layout(world.net.genesis)
    summed = lift(decode_vector(await world.h.gateway.get(block.header.aggregate_cid, MAX_BLOB), layout.elements))
    summed[0] += 1
    blob = encode_vector(to_field(summed))
    from zkpot.domain import sha256_hex
    from zkpot.storage.cid import compute_cid

    header = dataclasses.replace(block.header, aggregate_cid=compute_cid(blob), aggregate_sha256=sha256_hex(blob),
                                 model_commitment=circuit.commit_message(summed))
    proposer = next(k for k in world.net.keys.producers if k.public_hex == block.proposer)
    return Block.create(header, block.txs, block.rejected, proposer, view=block.view), blob


async def test_the_devnet_writes_no_plain_model_key(world: World) -> None:
    public = json.loads((world.net.root / "keys" / "public.json").read_text())
    assert public["producers"] == list(world.net.genesis.producers)
    assert os.path.exists(world.net.root / "keys" / "producer-0.key")
