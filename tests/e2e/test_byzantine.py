"""The prototype's Byzantine experiment, made real, on a live network (real nats-server, PostgreSQL, gateway,
fast-circuit proofs): every member's producer lies when it leads, one attack per round — N(0,1) weights as the
global model, its own model instead of the aggregate, a member dropped, silence. Each lie is refused with its
reason (or skipped), the second-ranked member's producer finalizes the honest block, and the chain audits clean.
"""

from __future__ import annotations

from collections.abc import AsyncIterator

import pytest
import pytest_asyncio
from zkpot.audit import audit
from zkpot.devnet import Devnet, DevnetConfig
from zkpot.domain.consensus import proposer_of_view, ranking
from zkpot.domain.events import Finalized, Proposal
from zkpot.services.byzantine import ATTACKS
from zkpot.storage.local import LocalStore
from zkpot.zk import registry
from zkpot.zk.system import ProofSystem

from .support import Harness

pytestmark = [pytest.mark.integration, pytest.mark.slow, pytest.mark.asyncio(loop_scope="module")]

CLIENTS, VALIDATORS = 3, 4
# noise may fail the accuracy floor before the aggregate check gets to it
REFUSED = {"noise": {"global_model_not_aggregate", "global_accuracy_below_floor"}, "own_model": {"aggregate_mismatch"},
           "drop_member": {"omitted_tx"}}


@pytest.fixture(scope="module")
def circuit() -> ProofSystem:
    return registry.build(registry.DEFAULT_PIPELINE)


@pytest_asyncio.fixture(scope="module", loop_scope="module")
async def run(circuit: ProofSystem, tmp_path_factory: pytest.TempPathFactory) -> AsyncIterator[tuple[Devnet,
                                                                                                      Harness]]:
    config = DevnetConfig(root=tmp_path_factory.mktemp("devnet"), clients=CLIENTS, validators=VALIDATORS,
                          rounds=len(ATTACKS), epochs=10, deadline_s=300, member_producers=True,
                          byzantine=",".join(ATTACKS), view_timeout_s=10)
    net = Devnet(config, circuit)
    net.prepare()
    h: Harness | None = None
    try:
        net.start_servers()
        net.start_services()
        h = await Harness.connect(net, 0)
        await h.final(len(ATTACKS), net)
        yield net, h
    finally:
        if h is not None:
            await h.close()
        net.stop()


def _finals(h: Harness) -> list[Finalized]:
    finals = {f["proposal"]["block"]["header"]["height"]: Finalized.from_dict(f)
              for f in h.events.of("zkpot.block.finalized")}
    return [finals[height] for height in sorted(finals)]


async def test_each_lying_leader_is_refused_with_its_reason_or_skipped(run: tuple[Devnet, Harness]) -> None:
    net, h = run
    proposals = [Proposal.from_dict(p).block for p in h.events.of("zkpot.block.proposed")]
    votes = h.events.of("zkpot.block.vote")
    for round_, attack in enumerate(ATTACKS, start=1):
        leaders = [b for b in proposals if b.header.round == round_ and b.view == 0]
        if attack == "silent":
            assert leaders == [], "the silent leader proposed"
            continue
        assert leaders, f"round {round_}: the leader proposed nothing"
        refusals = {v["reason"] for v in votes if v["block_hash"] == leaders[0].hash and not v["accept"]}
        assert refusals and refusals <= REFUSED[attack], (round_, attack, refusals)
        assert not [v for v in votes if v["block_hash"] == leaders[0].hash and v["accept"]]
    assert not [v for v in votes if v["reason"] == "wrong_proposer"]  # every fallback was its view's proposer


async def test_the_next_by_rank_finalizes_every_round_with_every_member(run: tuple[Devnet, Harness]) -> None:
    net, h = run
    finals = _finals(h)
    assert [f.block.header.round for f in finals] == list(range(1, len(ATTACKS) + 1))
    for f in finals:
        block = f.block
        assert block.view == 1 and len(block.txs) == CLIENTS
        assert block.proposer == proposer_of_view(net.genesis, ranking(list(block.txs)), 1)
        assert block.header.global_correct >= net.genesis.accuracy_floor


async def test_the_chain_with_lying_leaders_audits_clean(run: tuple[Devnet, Harness], circuit: ProofSystem) -> None:
    net, h = run
    store = LocalStore(net.root / "blobs")

    def fetch(cid: str) -> bytes | None:
        path = store.path_of(cid)
        return path.read_bytes() if path.exists() else None

    report = audit(net.genesis, _finals(h), fetch, circuit)
    assert report.ok, report.to_dict()
