"""The provisioning plan is what the services bind: the four services start on the in-memory bus, and every
durable they create must be in ``consumer_plan`` with the same filters and options; and the plan's shape."""

from __future__ import annotations

import pytest
from zkpot.bus.parties import (
    LOADTEST,
    WATCH,
    ConsumerSpec,
    Parties,
    consumer_plan,
    identities,
)
from zkpot.bus.subjects import EVENTS, JOBS, LAYOUT, PROVE_JOBS, prove_subject

from tests.unit.services.support import Task


async def _bound(member_provers: bool) -> set[ConsumerSpec]:
    """Every durable the services of a 2-member, 4-validator task bind (the pool, or each member's own prover)."""
    async with Task(clients=2, validators=4, member_provers=member_provers) as task:
        provers = [task.prover(member=m) for m in range(2)] if member_provers else [task.prover()]
        services = [task.producer(), *provers, *(task.validator(i) for i in range(4)),
                    *(task.trainer(i) for i in range(2))]
        for service in services:
            await service.start()
        try:
            return {ConsumerSpec.of(name, durable, c.filters, c.options)
                    for name, stream in task.bus._server.streams.items() for durable, c in stream.consumers.items()}
        finally:
            for service in services:
                await service.stop()


@pytest.mark.parametrize("member_provers", [False, True])
async def test_every_durable_the_services_bind_is_planned_with_the_same_options(member_provers: bool) -> None:
    bound = await _bound(member_provers)
    plan = set(consumer_plan(Parties(2, 4, member_provers)))
    assert bound - plan == set()
    observers = {c for c in plan if c.durable in (WATCH.name, LOADTEST.name)}
    assert plan - bound == observers  # only the read-only tools' durables are not the services'
    jobs = {c.durable for c in bound if c.stream == JOBS}
    assert jobs == ({"prover-0", "prover-1"} if member_provers else {"provers"})


def test_the_plan_names_each_partys_durables() -> None:
    plan = {c.durable: c for c in consumer_plan(Parties(2, 3))}
    assert set(plan) == {"producer-txs", "producer-attestations", "producer-votes", "validator-0", "validator-1",
                         "validator-2", "trainer-0-rounds", "trainer-0-proofs", "trainer-1-rounds",
                         "trainer-1-proofs", "provers", "watch", "loadtest"}
    assert (plan["provers"].stream, plan["provers"].filters, plan["provers"].max_ack_pending) == (JOBS, (PROVE_JOBS,),
                                                                                                   None)
    assert plan["trainer-1-proofs"].filters == ("zkpot.proof.done.1",)
    assert all(c.stream == EVENTS for name, c in plan.items() if name != "provers")


def test_member_provers_each_read_only_their_members_jobs() -> None:
    plan = [c for c in consumer_plan(Parties(3, 1, member_provers=True)) if c.stream == JOBS]
    assert [(c.durable, c.filters) for c in plan] == [(f"prover-{m}", (prove_subject(str(m)),)) for m in range(3)]
    names = [i.name for i in identities(Parties(3, 1, member_provers=True))]
    assert "prover" not in names and {"prover-0", "prover-1", "prover-2"} <= set(names)


def test_identities_are_unique_and_the_operator_comes_first() -> None:
    names = Parties(4, 4).names()
    assert names[0] == "operator" and len(set(names)) == len(names)
    assert [i.name for i in identities(Parties(4, 4)) if i.operator] == ["operator"]


def test_the_load_test_driver_reads_what_its_identity_is_planned_for() -> None:
    from loadtest.events import SUBJECTS

    assert LOADTEST.filters == SUBJECTS


def test_every_published_subject_is_in_the_layout() -> None:
    for identity in identities(Parties(2, 2, member_provers=True)):
        for subject in identity.publishes:
            LAYOUT.stream_for_filters((subject,))


def test_a_plan_the_layout_cannot_hold_is_refused() -> None:
    with pytest.raises(ValueError):
        Parties(-1, 1)
