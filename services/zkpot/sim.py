"""An in-process simulation of ZKPoT rounds: real training, real proofs, real verification, no network.

Every role runs the same round logic as the services (zkpot.roles); blobs live in a dict keyed by the CID Kubo
would assign; proofs are made in a worker process. Useful to see the protocol work end to end in a few minutes and
as the reference the networked devnet is compared with.
"""

from __future__ import annotations

import dataclasses
import time
from collections.abc import Callable
from concurrent.futures import ProcessPoolExecutor
from typing import Any

from zkpot.domain import (
    Attestation,
    Block,
    BlockHeader,
    Genesis,
    Reason,
    RoundView,
    check_votes,
    open_sealed,
    sha256_hex,
)
from zkpot.domain.errors import SealError
from zkpot.errors import InputError
from zkpot.ml import data as zdata
from zkpot.ml.model import Weights, count_correct, weights_from_bytes, weights_to_bytes
from zkpot.pool import spawn_pool
from zkpot.roles import client as rclient
from zkpot.roles import producer as rproducer
from zkpot.roles import validator as rvalidator
from zkpot.storage.cid import compute_cid
from zkpot.task import Keyring, RoundParams, initial_model_bytes, make_genesis
from zkpot.zk.system import ProofResult, ProofSystem, prove_job


@dataclasses.dataclass(frozen=True)
class SimConfig:
    clients: int = 4
    validators: int = 4
    rounds: int = 3
    epochs: int = 20
    alpha: float | None = None
    params: RoundParams = RoundParams(accuracy_floor_pct=20)

    def __post_init__(self) -> None:
        if self.clients < 1 or self.validators < 1 or self.rounds < 1:
            raise InputError("clients, validators and rounds must each be at least 1")


@dataclasses.dataclass
class RoundReport:
    height: int
    round: int
    hash: str
    leader: int | None
    leader_correct: int
    samples: int
    accepted: int
    rejected: int
    global_correct: int
    global_accuracy: float
    full_test_accuracy: float
    prove_s: float
    round_s: float

    def to_dict(self) -> dict[str, Any]:
        return dataclasses.asdict(self)


class Simulation:
    """The parties of one task, in one process."""

    def __init__(self, circuit: ProofSystem, config: SimConfig) -> None:
        self.circuit, self.config = circuit, config
        self.keys = Keyring.generate(config.clients, config.validators)
        self.genesis: Genesis = make_genesis(self.circuit, self.keys.public(), config.params)
        self.arch = self.circuit.arch
        self.blobs: dict[str, bytes] = {}
        self.verifier = self.circuit.checker()
        self.shards = zdata.partition(zdata.split(self.circuit.task)[0], config.clients, alpha=config.alpha)
        self.blocks: list[Block] = []
        self.used_commitments: set[str] = set()
        self.put(initial_model_bytes(self.arch))

    def put(self, data: bytes) -> str:
        cid = compute_cid(data)
        self.blobs[cid] = data
        return cid

    @property
    def head(self) -> BlockHeader | None:
        return self.blocks[-1].header if self.blocks else None

    def run(self, pool: ProcessPoolExecutor, on_round: Callable[[RoundReport], None]) -> list[RoundReport]:
        reports = []
        for round_ in range(1, self.config.rounds + 1):
            report = self.round(round_, pool)
            reports.append(report)
            on_round(report)
        return reports

    def round(self, round_: int, pool: ProcessPoolExecutor) -> RoundReport:
        t0 = time.perf_counter()
        head = self.head
        parent = head.block_hash if head else self.genesis.genesis_hash
        global_cid = head.model_cid if head else self.genesis.initial_model_cid
        start = weights_from_bytes(self.arch, self.blobs[global_cid])
        updates = [rclient.local_update(self.arch, start, shard, epochs=self.config.epochs, seed=round_ * 1000 + i)
                   for i, shard in enumerate(self.shards)]
        t_prove = time.perf_counter()
        results: list[ProofResult] = list(pool.map(prove_job, [(self.circuit, w) for w in updates]))
        prove_s = time.perf_counter() - t_prove
        txs = [self._tx(i, round_, parent, w, r) for i, (w, r) in enumerate(zip(updates, results, strict=True))]
        attestations = self._attest(round_, parent, txs)
        block = self._produce(round_, txs, attestations)
        reason = self._finalize(block, attestations)
        if reason is not Reason.OK:
            raise RuntimeError(f"round {round_}: the block was not finalized ({reason})")
        return self._report(block, prove_s, time.perf_counter() - t0)

    def _tx(self, i: int, round_: int, parent: str, weights: Weights, result: ProofResult) -> Any:
        sealed = rclient.seal_model(self.genesis, weights, len(self.shards[i]))
        return rclient.make_tx(
            self.keys.clients[i], round_, parent, commitment=result.commitment, correct=result.correct,
            samples=result.samples, proof=result.proof, proof_cid=self.put(result.proof), model=sealed,
            model_cid=self.put(sealed.sealed), now_ms=int(time.time() * 1000))

    def _attest(self, round_: int, parent: str, txs: list[Any]) -> dict[str, list[Attestation]]:
        out: dict[str, list[Attestation]] = {tx.tx_id: [] for tx in txs}
        for key in self.keys.validators:
            view = RoundView(round_, parent, commitments_seen=set(self.used_commitments))
            for tx in txs:
                proof = self.blobs.get(tx.proof_cid)
                out[tx.tx_id].append(rvalidator.attest(key, self.genesis, view, tx, proof, self.verifier))
        return out

    def _open(self, tx: Any) -> Weights | None:
        sealed = self.blobs.get(tx.model_cid)
        if sealed is None or sha256_hex(sealed) != tx.model_sha256:
            return None
        try:
            return weights_from_bytes(self.arch, open_sealed(sealed, self.keys.aggregator))
        except (SealError, InputError):
            return None

    def _produce(self, round_: int, txs: list[Any], attestations: dict[str, list[Attestation]]) -> Block:
        included, rejected = rproducer.split_attested(self.genesis, txs, attestations)
        opened, dropped = rproducer.open_models(included, self._open, self.circuit.commitment)
        if not opened:
            raise RuntimeError(f"round {round_}: no verified model to aggregate")
        weights = rproducer.aggregate(self.genesis, opened)
        data = weights_to_bytes(weights)
        model = rproducer.GlobalModel(
            cid=self.put(data), sha256=sha256_hex(data), commitment=self.circuit.commitment(weights),
            correct=count_correct(self.arch, weights, zdata.public_test_set(self.genesis.samples, self.genesis.task)))
        return rproducer.make_block(self.genesis, self.head, round_, [tx for tx, _ in opened],
                                    [*rejected, *dropped], model, self.keys.producer, int(time.time() * 1000))

    def _finalize(self, block: Block, attestations: dict[str, list[Attestation]]) -> Reason:
        model = self.blobs.get(block.header.model_cid)
        votes = []
        for key in self.keys.validators:
            reason = rvalidator.judge_block(self.genesis, self.head, block, attestations, model,
                                            self.used_commitments)
            votes.append(rvalidator.vote(key, block, reason))
        verdict = check_votes(block.hash, votes, self.genesis)
        if verdict is Reason.OK:
            self.blocks.append(block)
            self.used_commitments.update(tx.commitment for tx in block.txs)
        return verdict

    def _report(self, block: Block, prove_s: float, round_s: float) -> RoundReport:
        h = block.header
        clients = [k.public_hex for k in self.keys.clients]
        weights = weights_from_bytes(self.arch, self.blobs[h.model_cid])
        full = zdata.split(self.genesis.task)[1]
        return RoundReport(
            height=h.height, round=h.round, hash=h.block_hash,
            leader=clients.index(h.leader_client) if h.leader_client else None,
            leader_correct=h.leader_correct, samples=h.samples, accepted=h.accepted, rejected=h.rejected,
            global_correct=h.global_correct, global_accuracy=round(h.global_correct / h.global_samples, 4),
            full_test_accuracy=round(count_correct(self.arch, weights, full) / len(full), 4),
            prove_s=round(prove_s, 1), round_s=round(round_s, 1))


def run(circuit: ProofSystem, config: SimConfig, on_round: Callable[[RoundReport], None]) -> list[RoundReport]:
    with spawn_pool(1) as pool:
        return Simulation(circuit, config).run(pool, on_round)
