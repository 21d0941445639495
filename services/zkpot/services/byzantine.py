"""A member's producer that lies whenever it proposes: the adversary of the tests and of the Byzantine experiment
(docs/consensus.md). Each attack is one the validators must refuse or outlast:

- ``noise``: the global model replaced by N(0,1) weights (the prototype's malicious leader);
- ``own_model``: its own model in place of the aggregate: a self-consistent aggregate S' = total * m(own), so only
  the commitment check can catch it;
- ``drop_member``: a member left out of the block (its tx omitted, the rest kept);
- ``silent``: it proposes nothing; the next member by rank proposes when its view comes.

A ``Plan`` says when it lies: in which rounds (all by default) and views (0 by default: when it leads), so a
network of such producers has a lying leader each round and honest fallbacks.
"""

from __future__ import annotations

import dataclasses
from typing import Any

import numpy as np
from zkpot.domain import Block, sha256_hex
from zkpot.domain.merkle import merkle_root
from zkpot.domain.secagg import R, encode_vector, to_field
from zkpot.domain.verifiable import decode, encode
from zkpot.errors import InputError
from zkpot.gateway.wire import BlobKind
from zkpot.ml.model import count_correct, weights_from_bytes, weights_to_bytes
from zkpot.roles.validator import aggregate_layout
from zkpot.services.masking import MaskingMember
from zkpot.services.member_producer import MAX_MODEL_BYTES, MemberProducer

ATTACKS = ("noise", "own_model", "drop_member", "silent")


@dataclasses.dataclass(frozen=True)
class Plan:
    """``attacks[i]`` in round ``i + 1`` (cycling: one attack per round), in the given views; ``rounds`` limits it
    to those rounds (None: every round)."""

    attacks: tuple[str, ...]
    views: frozenset[int] = frozenset({0})
    rounds: frozenset[int] | None = None

    def __post_init__(self) -> None:
        unknown = [a for a in self.attacks if a not in ATTACKS]
        if not self.attacks or unknown:
            raise InputError(f"attacks must be some of {', '.join(ATTACKS)}, not {list(self.attacks)}")

    def attack(self, round_: int, view: int) -> str | None:
        if view not in self.views or (self.rounds is not None and round_ not in self.rounds):
            return None
        return self.attacks[(round_ - 1) % len(self.attacks)]

    @classmethod
    def parse(cls, text: str) -> Plan:
        """``noise,silent`` (cycling over rounds) or ``noise@2,4`` (only rounds 2 and 4): ZKPOT_BYZANTINE."""
        attacks, _, rounds = text.partition("@")
        try:
            picked = frozenset(int(r) for r in rounds.split(",")) if rounds else None
        except ValueError as e:
            raise InputError(f"ZKPOT_BYZANTINE rounds must be integers: {rounds!r}") from e
        return cls(tuple(a.strip() for a in attacks.split(",") if a.strip()), rounds=picked)


class ByzantineProducer(MemberProducer):
    def __init__(self, *args: Any, plan: Plan, **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        self.plan = plan
        self.lies = 0

    async def tamper(self, block: Block, head: Block | None) -> Block | None:
        attack = self.plan.attack(block.header.round, block.view)
        if attack is None:
            return block
        self.lies += 1
        if attack == "silent" or (attack == "drop_member" and len(block.txs) < 2):
            return None  # nothing to say (or no one to drop): it stays silent
        if attack == "drop_member":
            kept = block.txs[:-1] if block.txs[-1].tx_id != block.header.leader_tx else block.txs[1:]
            header = dataclasses.replace(block.header, tx_root=merkle_root([t.tx_id for t in kept]),
                                         accepted=len(kept))
            return Block.create(header, kept, block.rejected, self.key, view=block.view)
        if attack == "noise":
            rng = np.random.default_rng(block.header.round)
            noise = {n: rng.standard_normal(s).astype(np.float32) for n, s in self.arch.shapes().items()}
            return await self._with_model(block, noise, None)
        # a model of its own choosing in place of the aggregate: here the previous global model
        previous = head.header.model_cid if head else self.genesis.initial_model_cid
        own = weights_from_bytes(self.arch, await self.blobs.get(previous, MAX_MODEL_BYTES))
        layout = aggregate_layout(self.genesis)
        total = block.header.aggregate_total or 1
        summed = [total * v for v in encode(layout, own)]
        return await self._with_model(block, decode(layout, total, summed), summed)

    async def _with_model(self, block: Block, weights: Any, summed: list[int] | None) -> Block:
        """The block with another global model (and, given ``summed``, the aggregate it decodes from)."""
        model = weights_to_bytes(weights)
        changes: dict[str, Any] = {"model_cid": await self.blobs.put(BlobKind.GLOBAL, model, round=block.header.round),
                                   "model_sha256": sha256_hex(model),
                                   "global_correct": count_correct(self.arch, weights, self._test)}
        if summed is not None:
            blob = encode_vector(to_field(summed))
            changes |= {"aggregate_cid": await self.blobs.put(BlobKind.AGGREGATE, blob, round=block.header.round),
                        "aggregate_sha256": sha256_hex(blob), "model_commitment": self.system.commit_message(summed)}
        header = dataclasses.replace(block.header, **changes)
        return Block.create(header, block.txs, block.rejected, self.key, view=block.view)


class GarbageMasker(MaskingMember):
    """A member that publishes its masked vector with garbage added: the round's sum then opens no commitment
    (the round finalizes without its txs, ``aggregate_unopenable``, and the model carries over)."""

    def outgoing(self, masked: list[int]) -> list[int]:
        return [(masked[0] + 1) % R, *masked[1:]]
