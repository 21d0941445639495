"""FedAvg rounds in-process: what the network aggregates (ZKPoT) and a Byzantine leader, defended or not.

ZKPoT here replaces each proof by its verified outcome: the quantized model's count on the public samples, which
is what the proof states (``Federation.proven``; the network runs check proof = quantized count for every model
they prove). The accuracy floor (genesis ``accuracy_floor`` = samples * 20 // 100)
keeps members below it out of the aggregate, and the leader is the member with the highest count.
"""

from __future__ import annotations

from typing import Any

from zkpot.domain.aggregation import fedavg
from zkpot.experiment.federation import Curve, Federation, noise_model
from zkpot.ml.model import Weights
from zkpot.roles import client as rclient


def local_models(fed: Federation, model: Weights, round_: int) -> list[Weights]:
    """Every member's local update from the global model, seeded as the network seeds it."""
    return [rclient.local_update(fed.arch, model, shard, epochs=fed.epochs, seed=fed.member_seed(round_, i))
            for i, shard in enumerate(fed.shards)]


def aggregate(fed: Federation, local: list[Weights], counts: list[int], floor: int,
              previous: Weights) -> Weights:
    """FedAvg by n_train over the members at or above the floor; the previous model when none is."""
    kept = [i for i, c in enumerate(counts) if c >= floor]
    if not kept:
        return previous
    return fedavg([local[i] for i in kept], [fed.sizes[i] for i in kept])


def zkpot(fed: Federation, rounds: int, floor: int, *, lie_every: int = 0, defended: bool = True) -> dict[str, Any]:
    """Global accuracy per round. With ``lie_every`` = k, every k-th round's leader proposes N(0,1) weights:
    ``defended`` validators recompute the aggregate, refuse the block and take the next proposer's honest one;
    plain FedAvg (``defended=False``) accepts it as the next global model. ``aggregated``: members at or above
    the floor each round (none: the global model carries over)."""
    model, curve, lies, refused, aggregated = fed.start, Curve(), [], [], []
    for round_ in range(1, rounds + 1):
        local = local_models(fed, model, round_)
        counts = [fed.proven(w) for w in local]
        aggregated.append(sum(c >= floor for c in counts))
        honest = aggregate(fed, local, counts, floor, model)
        proposal = honest
        if lie_every and round_ % lie_every == 0:
            lies.append(round_)
            proposal = noise_model(fed.arch, round_)
        if defended and not _same(proposal, honest):
            refused.append(round_)
            proposal = honest  # the next proposer by rank builds the honest block
        model = proposal
        curve.add(fed, model)
    return {**curve.to_dict(), "lie_rounds": lies, "refused_rounds": refused, "aggregated": aggregated}


def _same(a: Weights, b: Weights) -> bool:
    """What a validator's re-check of the aggregate decides: the proposed model is the aggregate, bit for bit."""
    return a.keys() == b.keys() and all(a[k].shape == b[k].shape and (a[k] == b[k]).all() for k in a)
