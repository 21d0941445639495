"""A federation member's round: train from the global model, seal the weights, sign the transaction."""

from __future__ import annotations

import dataclasses

from zkpot.domain import Genesis, SigningKey, Transaction, seal, sha256_hex
from zkpot.ml.data import Dataset
from zkpot.ml.model import Arch, Weights, train, weights_to_bytes


@dataclasses.dataclass(frozen=True)
class SealedModel:
    """The local model encrypted to the aggregator key (what goes to IPFS) and the size of its training set."""

    sealed: bytes
    n_train: int


def local_update(arch: Arch, global_weights: Weights, shard: Dataset, *, epochs: int, seed: int) -> Weights:
    return train(arch, global_weights, shard, epochs=epochs, seed=seed)


def seal_model(genesis: Genesis, weights: Weights, n_train: int, to: str | None = None) -> SealedModel:
    """Seal to the aggregator's key, or to ``to`` (with secure aggregation: the member's own key; no one else's)."""
    return SealedModel(seal(weights_to_bytes(weights), to or genesis.aggregator_box_key), n_train)


def make_tx(key: SigningKey, round_: int, parent: str, *, commitment: str, correct: int, samples: int,
            proof: bytes, proof_cid: str, model: SealedModel, model_cid: str, now_ms: int) -> Transaction:
    """The signed ZKPoT transaction; its id is the sha256 of its canonical encoding without the signature."""
    return Transaction(
        round=round_,
        parent=parent,
        client=key.public_hex,
        commitment=commitment,
        correct=correct,
        samples=samples,
        proof_cid=proof_cid,
        proof_sha256=sha256_hex(proof),
        model_cid=model_cid,
        model_sha256=sha256_hex(model.sealed),
        n_train=model.n_train,
        timestamp_ms=now_ms,
    ).sign(key)
