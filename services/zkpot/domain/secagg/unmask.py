"""Unmasking: the sum over the survivors from public messages alone, which anyone (aggregator, validator) can run.

Each survivor's self-mask seed is rebuilt from the revealed seed shares and checked against its commitment; each
dropped neighbour's mask secret key is rebuilt from the revealed key shares and checked against its advertised
public key, and the pairwise masks it shared with survivors are recomputed and removed. A rebuild that fails its
check is retried without some revealers (``shamir.recover``); those left out are reported as inconsistent.
"""

import dataclasses
import functools
import hashlib
from collections.abc import Mapping, Sequence
from typing import Self

from zkpot.domain.errors import MalformedMessage
from zkpot.domain.reasons import Reason
from zkpot.domain.secagg import crypto, field, shamir
from zkpot.domain.secagg.errors import SecAggError
from zkpot.domain.secagg.graph import consistent_survivors, mask_sign
from zkpot.domain.secagg.messages import MaskedInput, MaskKeys, Reveal, decode_vector, vector_sha256
from zkpot.domain.secagg.prg import pair_mask, self_mask

_Pool = dict[str, dict[str, bytes]]  # owner -> revealer -> share


@dataclasses.dataclass(frozen=True)
class MaskedVector:
    """A survivor's ``MaskedInput`` with the field elements of its vector blob."""

    message: MaskedInput
    vector: Sequence[int]

    @classmethod
    def from_blob(cls, message: MaskedInput, blob: bytes, length: int) -> Self:
        """Decode ``blob``; ``MalformedMessage`` unless it hashes to ``message.vector_sha256`` and holds ``length``
        field elements."""
        if vector_sha256(blob) != message.vector_sha256:
            raise MalformedMessage("the vector blob does not hash to the masked input's vector_sha256")
        return cls(message, decode_vector(blob, length))


@dataclasses.dataclass(frozen=True)
class Unmasked:
    """The signed sum over the survivors, and the revealers whose shares did not fit the others'."""

    total: list[int]
    inconsistent: frozenset[str]


def unmask(keys: Mapping[str, MaskKeys], masked: Mapping[str, MaskedVector], reveals: Sequence[Reveal],
           threshold: int, round: int) -> list[int]:
    """The signed integer sum of the survivors' (the keys of ``masked``) inputs; see ``unmask_report``."""
    return unmask_report(keys, masked, reveals, threshold, round).total


def unmask_report(keys: Mapping[str, MaskKeys], masked: Mapping[str, MaskedVector], reveals: Sequence[Reveal],
                  threshold: int, round: int) -> Unmasked:
    """Unmask ``masked`` (all consistent survivors, see ``graph.consistent_survivors``) with ``reveals`` (one per
    revealer) under the round's ``threshold``; ``SecAggError`` with the reason when it cannot."""
    _check_inputs(keys, masked, reveals, round)
    survivors = sorted(masked)
    length = len(masked[survivors[0]].vector)
    acc = [0] * length
    for u in survivors:
        field.add_into(acc, masked[u].vector)
    seeds, secret_keys = _pool(reveals, survivors)
    liars: set[str] = set()
    for u in survivors:
        seed = _rebuild(seeds, u, threshold, liars, functools.partial(_commits, commitment=keys[u].seed_commitment))
        field.add_into(acc, self_mask(seed, length), -1)
    for v in sorted({v for u in survivors for v in masked[u].message.neighbours} - set(survivors)):
        raw = _rebuild(secret_keys, v, threshold, liars, functools.partial(_is_key_of, mask_pk=keys[v].mask_pk))
        for u in (u for u in survivors if v in masked[u].message.neighbours):
            seed = crypto.pair_seed(crypto.private_key(raw), keys[u].mask_pk, round, u, v)
            field.add_into(acc, pair_mask(seed, length), -mask_sign(u, v))
    return Unmasked(field.lift(field.reduce(acc)), frozenset(liars))


def _check_inputs(keys: Mapping[str, MaskKeys], masked: Mapping[str, MaskedVector], reveals: Sequence[Reveal],
                  round: int) -> None:
    if not masked:
        raise SecAggError(Reason.SECAGG_TOO_FEW_SHARES, "no survivors to sum")
    messages: list[MaskKeys | MaskedInput | Reveal] = [*keys.values(), *(m.message for m in masked.values()),
                                                      *reveals]
    if any(m.round != round for m in messages):
        raise SecAggError(Reason.WRONG_ROUND, f"a message is not of round {round}")
    if any(k.client != c for c, k in keys.items()) or any(m.message.client != c for c, m in masked.items()):
        raise SecAggError(Reason.SECAGG_INCONSISTENT, "a message is filed under another member than its client")
    if len({r.client for r in reveals}) != len(reveals):
        raise SecAggError(Reason.SECAGG_INCONSISTENT, "two reveals from one member: keep one per member")
    if len({len(m.vector) for m in masked.values()}) != 1:
        raise SecAggError(Reason.SECAGG_INCONSISTENT, "masked vectors of different lengths")
    inputs = {c: m.message for c, m in masked.items()}
    if set(consistent_survivors(keys, inputs)) != set(masked):
        raise SecAggError(Reason.SECAGG_INCONSISTENT, "some survivors' neighbour lists disagree: pass only "
                                                      "graph.consistent_survivors and treat the rest as dropped")


def _pool(reveals: Sequence[Reveal], survivors: Sequence[str]) -> tuple[_Pool, _Pool]:
    """Seed shares of survivors and key shares of the others, by owner then revealer (other kinds ignored)."""
    alive = set(survivors)
    seeds: _Pool = {}
    secret_keys: _Pool = {}
    for reveal in reveals:
        for s in reveal.seeds:
            if s.owner in alive:
                seeds.setdefault(s.owner, {})[reveal.client] = bytes.fromhex(s.share)
        for s in reveal.keys:
            if s.owner not in alive:
                secret_keys.setdefault(s.owner, {})[reveal.client] = bytes.fromhex(s.share)
    return seeds, secret_keys


def _rebuild(pool: _Pool, owner: str, threshold: int, liars: set[str], check: shamir.Check) -> bytes:
    try:
        secret, bad = shamir.recover(pool.get(owner, {}), threshold, check)
    except SecAggError as exc:
        raise SecAggError(exc.reason, f"a secret of {owner[:8]}…: {exc.detail}") from exc
    liars.update(bad)
    return secret


def _commits(seed: bytes, commitment: str) -> bool:
    return hashlib.sha256(seed).hexdigest() == commitment


def _is_key_of(raw: bytes, mask_pk: str) -> bool:
    return crypto.public_hex(crypto.private_key(raw)) == mask_pk
