"""Per-member provers on a real nats-server with the devnet's config (``Keyring.generate(member_provers=True)``):
member m's prover reads only the durable ``prover-<m>`` of its member's jobs and reports only to its member."""

from __future__ import annotations

import pytest
from zkpot.bus.errors import NotPermitted, NotProvisioned
from zkpot.bus.parties import consumer_plan
from zkpot.bus.subjects import JOBS, proof_done_subject, prove_subject
from zkpot.task import Keyring

from tests.integration.bus.support import Recorder
from tests.integration.bus.test_bus_auth import Connect, connect, secured  # noqa: F401  (the fixtures)

pytestmark = pytest.mark.integration


@pytest.fixture(scope="module")
def keys() -> Keyring:
    return Keyring.generate(2, 1, member_provers=True)


async def test_the_operator_provisions_one_jobs_durable_per_member(connect: Connect, keys: Keyring) -> None:  # noqa: F811
    operator = await connect("operator")
    names = {info.name for info in await operator.js.consumers_info(JOBS)}
    assert names == {"prover-0", "prover-1"} == {c.durable for c in consumer_plan(keys.parties())
                                                 if c.stream == JOBS}


async def test_a_members_prover_gets_its_members_jobs_and_reports_to_it(connect: Connect) -> None:  # noqa: F811
    trainer, prover = await connect("trainer-1"), await connect("prover-1")
    jobs = Recorder()
    await prover.subscribe(prove_subject("1"), "prover-1", jobs, queue=True, ack_wait_s=60, max_deliver=5)
    assert await trainer.publish(prove_subject("1"), {"job": 1}, "job-m1-1")
    assert (await jobs.next()).subject == prove_subject("1")
    assert await prover.publish(proof_done_subject("1"), {"job": 1}, "proof-job-m1-1")


async def test_prover_1_cannot_read_member_0s_jobs(connect: Connect) -> None:  # noqa: F811
    prover = await connect("prover-1")
    with pytest.raises(NotPermitted, match="prover-0"):  # member 0's durable is not its own
        await prover.subscribe(prove_subject("0"), "prover-0", Recorder(), queue=True, ack_wait_s=60, max_deliver=5)
    with pytest.raises(NotProvisioned, match="differs"):  # its own durable holds only member 1's jobs
        await prover.subscribe(prove_subject("0"), "prover-1", Recorder(), queue=True, ack_wait_s=60, max_deliver=5)


@pytest.mark.parametrize("subject", [proof_done_subject("0"), prove_subject("1")])
async def test_a_members_prover_cannot_publish_for_another_member(connect: Connect, subject: str) -> None:  # noqa: F811
    prover = await connect("prover-1")
    with pytest.raises(NotPermitted, match="(?i)permissions violation"):
        await prover.publish(subject, {"forged": True}, "forged-m-1")
