"""Who talks on the bus, as data: each party's NATS identity, what it publishes and the durable consumers it reads.

Everything here is a pure function of the stream layout and the ``Parties`` of a deployment. The operator
provisions exactly ``consumer_plan(parties)`` (``zkpot nats provision``), ``zkpot.bus.permissions`` turns
``identities(parties)`` into nats-server's allow-lists, and a unit test runs the four services on the in-memory
bus and checks that every durable they bind is in the plan with the same filters and options. The numbers below
(ack waits, delivery limits) must equal the services' ``subscribe(...)`` calls; that test keeps them equal.
"""

from __future__ import annotations

import dataclasses

from zkpot.bus.api import ConsumerOptions
from zkpot.bus.subjects import (
    BLOCK_FINALIZED,
    BLOCK_PROPOSED,
    BLOCK_VOTE,
    EVENTS,
    JOBS,
    LAYOUT,
    PROOF_DONE,
    PROVE_JOBS,
    ROUND_OPEN,
    SECAGG,
    SECAGG_KEYS,
    SECAGG_MASKED,
    SECAGG_REVEAL,
    SECAGG_SHARES,
    TX_ATTESTED,
    TX_SUBMITTED,
    Layout,
    proof_done_subject,
    prove_subject,
    secagg_subject,
)
from zkpot.bus.wildcards import check_durable, check_token

OPERATOR = "operator"
PRODUCER = "producer"
POOL_PROVER = "prover"
PROVER_POOL_DURABLE = "provers"


@dataclasses.dataclass(frozen=True)
class ConsumerSpec:
    """One durable pull consumer as the server stores it (what ``consumer_config`` sends)."""

    stream: str
    durable: str
    filters: tuple[str, ...]
    ack_wait_s: float = 30.0
    max_deliver: int = 10
    max_ack_pending: int | None = 1  # None: the server's default (a shared work queue)

    @classmethod
    def of(cls, stream: str, durable: str, filters: tuple[str, ...], options: ConsumerOptions) -> ConsumerSpec:
        """The spec a ``subscribe`` with these options binds to."""
        return cls(stream, check_durable(durable), tuple(filters), options.ack_wait_s, options.max_deliver,
                   options.concurrency if options.ordered else None)


@dataclasses.dataclass(frozen=True)
class Observer:
    """A read-only tool (the devnet's watcher, the load test's driver) with its own durable on the events."""

    name: str
    filters: tuple[str, ...]
    publishes: tuple[str, ...] = ()


WATCH = Observer("watch", (ROUND_OPEN, TX_SUBMITTED, TX_ATTESTED, PROOF_DONE, BLOCK_PROPOSED, BLOCK_VOTE,
                          BLOCK_FINALIZED, *SECAGG))
# The load test plays members: it submits their transactions (signed with their keys) and follows the chain.
LOADTEST = Observer("loadtest", (ROUND_OPEN, TX_ATTESTED, BLOCK_PROPOSED, BLOCK_FINALIZED), (TX_SUBMITTED,))


@dataclasses.dataclass(frozen=True)
class Parties:
    """The parties of one deployment: members 0..members-1 (client indices), validators 0..validators-1, the
    producer (or ``member_producers``: each member's own ``producer-<m>``, and the members run secure
    aggregation), the provers (one shared pool, or ``member_provers``: each member's own ``prover-<m>`` reading
    only its member's jobs), the operator, and read-only observers."""

    members: int
    validators: int
    member_provers: bool = False
    observers: tuple[Observer, ...] = (WATCH, LOADTEST)
    member_producers: bool = False

    def __post_init__(self) -> None:
        if self.members < 0 or self.validators < 0:
            raise ValueError("members and validators cannot be negative")

    @property
    def member_names(self) -> tuple[str, ...]:
        return tuple(check_token(str(i), "member") for i in range(self.members))

    def names(self) -> tuple[str, ...]:
        """Every identity name, in a stable order (the key files are ``nats-<name>.nk``)."""
        return tuple(i.name for i in identities(self))


@dataclasses.dataclass(frozen=True)
class Identity:
    """One NATS user: the subjects it may publish on and the durable consumers it may read through."""

    name: str
    publishes: tuple[str, ...] = ()
    consumers: tuple[ConsumerSpec, ...] = ()
    operator: bool = False  # may create, update and delete streams and consumers (the JetStream API)


# what a member's trainer, a validator and a member's producer follow of secure aggregation (docs/consensus.md)
TRAINER_SECAGG = (SECAGG_KEYS, SECAGG_SHARES, SECAGG_MASKED, TX_ATTESTED)
VALIDATOR_SECAGG = (ROUND_OPEN, SECAGG_KEYS, SECAGG_MASKED, SECAGG_REVEAL, TX_ATTESTED)
MEMBER_PRODUCER = (ROUND_OPEN, TX_SUBMITTED, TX_ATTESTED, BLOCK_VOTE, BLOCK_PROPOSED, BLOCK_FINALIZED, SECAGG_KEYS,
                   SECAGG_MASKED, SECAGG_REVEAL)


def trainer_consumers(member: str, secagg: bool = False) -> tuple[ConsumerSpec, ...]:
    """services/trainer.py: round openings (ack wait 120 s) and its own member's proof results; with secure
    aggregation also the members' key, share and masked-input messages and the attestations."""
    own = (ConsumerSpec(EVENTS, f"trainer-{member}-rounds", (ROUND_OPEN,), ack_wait_s=120.0),
           ConsumerSpec(EVENTS, f"trainer-{member}-proofs", (proof_done_subject(member),)))
    return own + ((ConsumerSpec(EVENTS, f"trainer-{member}-secagg", TRAINER_SECAGG),) if secagg else ())


def validator_consumers(index: int, secagg: bool = False) -> tuple[ConsumerSpec, ...]:
    """services/validator.py: txs, proposals and finals in stream order through one durable (with secure
    aggregation also round openings, mask keys, masked inputs and the other validators' attestations)."""
    filters = (TX_SUBMITTED, BLOCK_PROPOSED, BLOCK_FINALIZED) + (VALIDATOR_SECAGG if secagg else ())
    return (ConsumerSpec(EVENTS, f"validator-{index}", filters),)


def producer_consumers() -> tuple[ConsumerSpec, ...]:
    """services/producer.py: txs, attestations and votes, one durable each."""
    return (ConsumerSpec(EVENTS, "producer-txs", (TX_SUBMITTED,)),
            ConsumerSpec(EVENTS, "producer-attestations", (TX_ATTESTED,)),
            ConsumerSpec(EVENTS, "producer-votes", (BLOCK_VOTE,)))


def member_producer_consumers(member: str) -> tuple[ConsumerSpec, ...]:
    """services/member_producer.py: everything a member's producer follows, in stream order, one durable."""
    return (ConsumerSpec(EVENTS, f"producer-{member}", MEMBER_PRODUCER),)


def prover_consumers(member: str | None = None) -> tuple[ConsumerSpec, ...]:
    """services/prover.py: the shared work-queue durable ``provers`` (ack wait 60 s, 5 deliveries); a member's own
    prover reads ``prover-<m>``, filtered to that member's jobs. A work queue takes no overlapping consumers, so a
    deployment has either the pool or per-member provers."""
    if member is None:
        return (ConsumerSpec(JOBS, PROVER_POOL_DURABLE, (PROVE_JOBS,), 60.0, 5, None),)
    return (ConsumerSpec(JOBS, f"prover-{member}", (prove_subject(member),), 60.0, 5, None),)


def observer_consumers(observer: Observer) -> tuple[ConsumerSpec, ...]:
    return (ConsumerSpec(EVENTS, check_durable(observer.name), observer.filters),)


def identities(parties: Parties) -> tuple[Identity, ...]:
    """Every party's identity and rights; the operator first."""
    out = [Identity(OPERATOR, operator=True)]
    secagg = parties.member_producers
    if secagg:
        out += [Identity(f"producer-{m}", (ROUND_OPEN, BLOCK_PROPOSED, BLOCK_FINALIZED), member_producer_consumers(m))
                for m in parties.member_names]
    else:
        out.append(Identity(PRODUCER, (ROUND_OPEN, BLOCK_PROPOSED, BLOCK_FINALIZED), producer_consumers()))
    out += [Identity(f"validator-{i}", (TX_ATTESTED, BLOCK_VOTE), validator_consumers(i, secagg))
            for i in range(parties.validators)]
    own_secagg = (lambda m: tuple(secagg_subject(p.split(".")[2], m) for p in SECAGG)) if secagg else (lambda m: ())
    out += [Identity(f"trainer-{m}", (prove_subject(m), TX_SUBMITTED, *own_secagg(m)), trainer_consumers(m, secagg))
            for m in parties.member_names]
    if parties.member_provers:
        out += [Identity(f"prover-{m}", (proof_done_subject(m),), prover_consumers(m)) for m in parties.member_names]
    else:
        out.append(Identity(POOL_PROVER, (PROOF_DONE,), prover_consumers()))
    out += [Identity(o.name, o.publishes, observer_consumers(o)) for o in parties.observers]
    return tuple(out)


def consumer_plan(parties: Parties, layout: Layout = LAYOUT) -> tuple[ConsumerSpec, ...]:
    """Every durable consumer of the deployment, as the operator creates them; ValueError on a spec the layout
    cannot hold (a filter spanning streams, a stream it does not name, a durable named twice)."""
    plan = tuple(c for i in identities(parties) for c in i.consumers)
    seen: set[tuple[str, str]] = set()
    for c in plan:
        if layout.stream_for_filters(c.filters).name != c.stream:
            raise ValueError(f"consumer {c.durable}: filters {c.filters} do not select from {c.stream}")
        if (c.stream, c.durable) in seen:
            raise ValueError(f"durable {c.durable} is planned twice on {c.stream}")
        seen.add((c.stream, c.durable))
    return plan
