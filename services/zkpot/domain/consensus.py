"""Who proposes a round's block, and which transactions the block must hold (docs/consensus.md, section 3).

The rules are pure: every honest party that sees the same attestations and masked inputs computes the same
aggregatable set, the same ranking and the same proposer for each view, so it needs no message to agree on them.

- A transaction is *aggregatable* when it holds a quorum of valid attestations and its member's masked vector was
  stored before the round's cutoff (and secure aggregation kept it, a decision the caller passes in).
- The *ranking* orders aggregatable transactions by proven ``correct`` (descending), ties by lowest tx id: rank 0
  is the round's leader (``leader.select_leader``).
- View ``k`` starts at ``cutoff + grace + k * view_timeout``; its proposer is the producer of the member at rank
  ``k``, and past the ranked members the producers of all members in genesis order (so a round with no
  aggregatable transaction still gets a block).
"""

from __future__ import annotations

import dataclasses
from collections.abc import Collection, Iterable, Mapping, Sequence
from typing import Any

from zkpot.domain.messages import Attestation, Genesis, Transaction
from zkpot.domain.reasons import Reason
from zkpot.domain.secagg import MaskedInput, MaskKeys, consistent_survivors
from zkpot.domain.validation.quorum import is_attested


@dataclasses.dataclass(frozen=True)
class RoundClock:
    """When a round's views start, in Unix milliseconds: ``cutoff`` is the round's deadline."""

    cutoff_ms: int
    grace_ms: int
    view_timeout_ms: int

    def __post_init__(self) -> None:
        if self.grace_ms < 0 or self.view_timeout_ms < 1:
            raise ValueError(f"grace {self.grace_ms} ms must be >= 0 and the view timeout {self.view_timeout_ms} "
                             "ms >= 1")

    def view_start_ms(self, view: int) -> int:
        if view < 0:
            raise ValueError(f"views count from 0, not {view}")
        return self.cutoff_ms + self.grace_ms + view * self.view_timeout_ms

    def view_at(self, now_ms: int) -> int | None:
        """The view a party is in at ``now_ms``; None before view 0 starts (collection is still on)."""
        first = self.view_start_ms(0)
        if now_ms < first:
            return None
        return (now_ms - first) // self.view_timeout_ms


def aggregatable(
    genesis: Genesis,
    txs: Sequence[Transaction],
    attestations: Mapping[str, Sequence[Attestation]],
    masked: Collection[str],
) -> list[Transaction]:
    """The round's transactions that go into its block: attested by a quorum, from a member whose masked vector
    (``masked``: the clients whose masked input was stored before the cutoff and kept by secure aggregation)
    counts. One per member: a member with two attested txs (only a faulty quorum could attest both) keeps the
    lowest tx id, so every party picks the same one."""
    chosen: dict[str, Transaction] = {}
    for tx in sorted(txs, key=lambda t: t.tx_id):
        if tx.client in masked and tx.client not in chosen and is_attested(tx, attestations.get(tx.tx_id, ()),
                                                                             genesis):
            chosen[tx.client] = tx
    return sorted(chosen.values(), key=lambda t: t.tx_id)


def ranking(txs: Sequence[Transaction]) -> list[Transaction]:
    """Highest proven accuracy first; a tie goes to the lowest tx id."""
    return sorted(txs, key=lambda tx: (-tx.correct, tx.tx_id))


def proposer_of_view(genesis: Genesis, ranked: Sequence[Transaction], view: int) -> str:
    """The producer key that may propose in ``view``: the ranked member's, then every member's in genesis order."""
    if view < 0:
        raise ValueError(f"views count from 0, not {view}")
    producers = member_producers(genesis)
    if view < len(ranked):
        return producers[ranked[view].client]
    return genesis.producers[(view - len(ranked)) % len(genesis.producers)]


def views_of(genesis: Genesis, ranked: Sequence[Transaction], producer: str, last_view: int) -> list[int]:
    """The views up to ``last_view`` in which ``producer`` may propose (several when it leads and later rotates)."""
    return [v for v in range(last_view + 1) if proposer_of_view(genesis, ranked, v) == producer]


def member_producers(genesis: Genesis) -> dict[str, str]:
    """Member (client key) -> its producer's key; genesis lists them index-aligned."""
    if len(genesis.producers) != len(genesis.clients):
        raise ValueError(f"genesis lists {len(genesis.producers)} producers for {len(genesis.clients)} members")
    return dict(zip(genesis.clients, genesis.producers, strict=True))


def check_tx_set(block_txs: Sequence[Transaction], expected: Sequence[Transaction]) -> Reason:
    """A block holds exactly the aggregatable transactions a validator computed: none left out (a leader dropping
    a member), none added (a tx without its quorum or its masked vector)."""
    have, want = {tx.tx_id for tx in block_txs}, {tx.tx_id for tx in expected}
    if want - have:
        return Reason.OMITTED_TX
    if have - want:
        return Reason.TX_NOT_ATTESTED
    return Reason.OK


@dataclasses.dataclass(frozen=True)
class Stored:
    """A message with the bus server's store time (``Delivery.stored_ms``), the clock cutoffs are read on."""

    message: Any
    stored_ms: int


def attested_ids(genesis: Genesis, round_: int, attestations: Iterable[Attestation]) -> set[str]:
    """The round's tx ids that a quorum of distinct genesis validators validly attested as valid."""
    validators = set(genesis.validators)
    by_tx: dict[str, set[str]] = {}
    for a in attestations:
        if (a.round == round_ and a.valid and a.reason == Reason.OK and a.validator in validators
                and a.signature_valid()):
            by_tx.setdefault(a.tx_id, set()).add(a.validator)
    return {tx_id for tx_id, who in by_tx.items() if len(who) >= genesis.quorum}


def first_per_member(genesis: Genesis, round_: int, stored: Iterable[Stored], cutoff_ms: int | None = None) -> dict:
    """Each genesis member's first validly signed message of the round (store order), optionally only those stored
    by ``cutoff_ms``: a member that sends two keys or two masked inputs is held to its first."""
    members, out = set(genesis.clients), {}  # type: ignore[var-annotated]
    for item in sorted(stored, key=lambda s: (s.stored_ms, s.message.payload_id)):
        m = item.message
        if cutoff_ms is not None and item.stored_ms > cutoff_ms:
            continue
        if m.round == round_ and m.client in members and m.client not in out and m.signature_valid():
            out[m.client] = m
    return out


def survivors(genesis: Genesis, round_: int, keys: Iterable[Stored], masked: Iterable[Stored],
              attested: Collection[str], cutoff_ms: int) -> tuple[dict[str, MaskKeys], dict[str, MaskedInput]]:
    """The round's mask keys, and the masked inputs that go into its aggregate: stored by the cutoff, naming a
    tx a quorum attested, and pairwise consistent (``secagg.consistent_survivors``). Every party that holds the
    same messages computes the same survivors. Fewer survivors than the threshold are none: their sum cannot be
    unmasked (no honest member reveals for it, as it could expose a single member's model), so the round
    aggregates nothing and its block goes on without its txs instead of waiting for reveals that never come."""
    advertised = first_per_member(genesis, round_, keys)
    inputs = {c: m for c, m in first_per_member(genesis, round_, masked, cutoff_ms).items() if m.tx_id in attested}
    kept = consistent_survivors(advertised, inputs)
    if len(kept) < secagg_params(genesis)[1]:
        return advertised, {}
    return advertised, {c: inputs[c] for c in kept}


def aggregatable_txs(txs: Iterable[Transaction], inputs: Mapping[str, MaskedInput]) -> list[Transaction]:
    """The txs the surviving masked inputs name (each member's own), once each, in tx-id order."""
    named = {m.tx_id: c for c, m in inputs.items()}
    unique = {tx.tx_id: tx for tx in txs if named.get(tx.tx_id) == tx.client}
    return [unique[tx_id] for tx_id in sorted(unique)]


def secagg_params(genesis: Genesis) -> tuple[int, int]:
    """(degree, threshold) of the round's secure aggregation: every member is a neighbour unless genesis names a
    degree; a secret takes more than half its neighbourhood (the member and its neighbours) unless genesis names a
    threshold, so the two sides of a disagreement about who dropped can never both rebuild it."""
    others = len(genesis.clients) - 1
    degree = min(genesis.secagg_degree or others, others)
    threshold = genesis.secagg_threshold or (degree + 1) // 2 + 1
    if not 1 <= threshold <= degree + 1:
        raise ValueError(f"a threshold of {threshold} cannot be met in a neighbourhood of {degree + 1}")
    return degree, threshold


def effective_cutoff(genesis: Genesis, round_: int, masked: Iterable[Stored], deadline_ms: int) -> int:
    """The round's cutoff: its deadline, or earlier the store time of the last member's masked input when every
    genesis member's masked input was stored by the deadline (a round everyone joined closes as soon as it can).
    The store times are the bus server's, so every party that holds the inputs computes the same cutoff; one that
    does not hold them all yet waits for the deadline or for them."""
    first = first_per_member(genesis, round_, masked, deadline_ms)
    times = [s.stored_ms for s in masked if first.get(s.message.client) is s.message]
    if len(first) == len(genesis.clients) and times:
        return max(times)
    return deadline_ms
