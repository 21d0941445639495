"""Bytes per round, measured on real encodings: what the ledger keeps, what IPFS keeps, and what a chain that
stores the models in its blocks (the prototype's design) would keep.

- **ledger**: one finalized bundle as the chain stores it (``zkpot.domain.events.Finalized``, canonical JSON):
  the block (header, one tx record per member with its CIDs, hashes and commitment), every validator's
  attestation of every tx, the parent's certificate and the quorum of votes. Keys and signatures are real
  Ed25519 ones, CIDs are computed from the real bytes;
- **IPFS**: every member's model sealed to the aggregator (``seal`` of the ``.npz`` of its weights), every
  member's proof (``proof_bytes``, measured by the network; left out, and said so, when unknown) and the
  global model's ``.npz``;
- **model-in-block chain**: the same block with every member's model and the global model inside it.

The commitment's length (``commitment_chars``) is the one part not measured here: its hex length depends on the
circuit (KZG points of 128 hex each); the default assumes two.
"""

from __future__ import annotations

import os
from typing import Any

from zkpot.domain import BoxKeyPair, SigningKey, bft_quorum, canonical, seal, sha256_hex
from zkpot.domain.events import Certificate, Finalized, Proposal
from zkpot.domain.messages import Attestation, Block, BlockHeader, Transaction, Vote
from zkpot.ml.model import Weights, weights_to_bytes
from zkpot.storage.cid import compute_cid

COMMITMENT_CHARS = 128  # one BN254 G1 point (64 bytes), as the devnet chains of both tasks hold it


def round_bytes(models: list[Weights], n_train: list[int], global_model: Weights, *, validators: int,
                samples: int, proof_bytes: int | None,
                commitment_chars: int = COMMITMENT_CHARS) -> dict[str, Any]:
    """The three byte counts of one round in which every member of ``models`` (trained on ``n_train``) submits."""
    box = BoxKeyPair.generate()
    sealed = [seal(weights_to_bytes(w), box.public_hex) for w in models]
    global_bytes = weights_to_bytes(global_model)
    proof = os.urandom(proof_bytes or 1)
    txs = [_tx(s, n, proof, samples, commitment_chars) for s, n in zip(sealed, n_train, strict=True)]
    ledger = len(canonical(_finalized(txs, global_bytes, validators, samples, commitment_chars).to_dict()))
    models_in_block = sum(len(weights_to_bytes(w)) for w in models) + len(global_bytes)
    ipfs = sum(len(s) for s in sealed) + len(global_bytes) + (proof_bytes or 0) * len(models)
    return {"ledger_bytes": ledger, "ipfs_bytes": ipfs, "model_in_block_bytes": ledger + models_in_block,
            "models_bytes": models_in_block, "proof_bytes": proof_bytes, "proofs_included": proof_bytes is not None,
            "members": len(models), "validators": validators}


def _tx(sealed: bytes, n_train: int, proof: bytes, samples: int, commitment_chars: int) -> Transaction:
    key = SigningKey.generate()
    return Transaction(round=1, parent=os.urandom(32).hex(), client=key.public_hex,
                       commitment=os.urandom(commitment_chars // 2).hex(), correct=samples, samples=samples,
                       proof_cid=compute_cid(proof), proof_sha256=sha256_hex(proof), model_cid=compute_cid(sealed),
                       model_sha256=sha256_hex(sealed), n_train=n_train, timestamp_ms=1_700_000_000_000).sign(key)


def _finalized(txs: list[Transaction], global_bytes: bytes, validators: int, samples: int,
               commitment_chars: int) -> Finalized:
    keys = [SigningKey.generate() for _ in range(validators)]
    proposer = SigningKey.generate()
    header = BlockHeader(
        height=2, round=2, prev_hash=os.urandom(32).hex(), timestamp_ms=1_700_000_000_000, producer="",
        leader_client=txs[0].client, leader_tx=txs[0].tx_id, leader_correct=samples, samples=samples,
        tx_root=os.urandom(32).hex(), accepted=len(txs), rejected=0, model_cid=compute_cid(global_bytes),
        model_sha256=sha256_hex(global_bytes), model_commitment=os.urandom(commitment_chars // 2).hex(),
        global_correct=samples, global_samples=samples, aggregation="fedavg", genesis_hash=os.urandom(32).hex(),
        aggregate_cid=compute_cid(global_bytes), aggregate_sha256=sha256_hex(global_bytes), aggregate_total=10**6)
    block = Block.create(header, txs, [], proposer, view=0)
    atts = {tx.tx_id: [Attestation(tx.tx_id, 2, k.public_hex, True, "ok").sign(k) for k in keys] for tx in txs}
    quorum = keys[: bft_quorum(validators)]
    parent = Certificate(header.prev_hash, 1, _votes(quorum, header.prev_hash, 1))
    return Finalized(Proposal.of(block, atts, parent=parent), _votes(quorum, block.hash, 2))


def _votes(keys: list[SigningKey], block_hash: str, height: int) -> tuple[Vote, ...]:
    return tuple(Vote(block_hash, height, k.public_hex, True, "ok").sign(k) for k in keys)
