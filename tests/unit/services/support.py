"""A whole task in one process for the services' unit tests: real keys, genesis, sealing, models and a MemoryStore;
the in-memory bus and stores; a fake proof system whose proofs are cheap but cannot be forged or altered."""

from __future__ import annotations

import asyncio
import dataclasses
import hashlib
import hmac
import inspect
import json
from collections.abc import Callable, Mapping, Sequence
from concurrent.futures import Executor, ThreadPoolExecutor
from pathlib import Path
from typing import Any

from zkpot.bus import Bus, MemoryBus
from zkpot.bus.subjects import BLOCK_FINALIZED, BLOCK_VOTE, TX_ATTESTED, TX_SUBMITTED
from zkpot.db.memory import MemoryProducerRepo, MemoryProverRepo, MemoryTrainerRepo, MemoryValidatorRepo
from zkpot.domain import (
    Attestation,
    Block,
    BlockHeader,
    Genesis,
    ProofClaims,
    ProofRejected,
    Reason,
    Transaction,
    Vote,
    seal,
    sha256_hex,
)
from zkpot.domain.events import Finalized, Proposal
from zkpot.domain.verifiable import AggregateLayout, bn, encode, format_points
from zkpot.metrics import Metrics
from zkpot.ml import data as zdata
from zkpot.ml.model import Arch, Weights, count_correct, init_weights, weights_from_bytes, weights_to_bytes
from zkpot.roles import producer as rproducer
from zkpot.roles.client import SealedModel, make_tx
from zkpot.services.blobs import StoreBlobs
from zkpot.services.byzantine import ByzantineProducer, Plan
from zkpot.services.masking import MaskingMember
from zkpot.services.member_producer import MemberProducer
from zkpot.services.producer import Producer
from zkpot.services.prover import Prover
from zkpot.services.trainer import Trainer
from zkpot.services.validator import Validator
from zkpot.storage.memory import MemoryStore
from zkpot.task import Keyring, RoundParams, initial_model_bytes, make_genesis
from zkpot.zk.system import ProofResult, ProofSystem

SAMPLES = 30  # public test samples the fake circuit "proves" accuracy on
_C0 = bn.multiply(bn.G1, 7)
WAIT_S = 60.0  # a bound on liveness, not a timing: a loaded 2-core CI machine is slow
_PROOF_KEY = b"fake-proof-system"


def threads(workers: int) -> Executor:
    """The services' pool factory for tests: threads in this process instead of spawned processes."""
    return ThreadPoolExecutor(max_workers=max(1, workers))


class FakeSystem(ProofSystem):
    """A ``ProofSystem`` whose proof is its claims under a MAC: a flipped byte or a changed claim fails ``check``.

    Commitments and counts are the real ones (a hash of the weights, the model's count on the test samples).
    """

    kind = "fake"

    def __init__(self, samples: int = SAMPLES) -> None:  # no circuit to load
        self.circuit, self.root, self.arch, self.samples = None, Path("."), Arch(), samples
        self.task = "digits"
        self.manifest = {"instances_digest": "ab" * 32, "test_set_sha256": "cd" * 32}
        self.proofs = 0

    @classmethod
    def build(cls, samples: int | None = None, **_: Any) -> FakeSystem:
        return cls(samples or SAMPLES)

    @classmethod
    def load(cls, root: Path) -> FakeSystem:
        raise NotImplementedError("a fake system has no artifacts to load")

    @staticmethod
    def owns(manifest: Mapping[str, Any]) -> bool:
        return False

    def summary(self) -> dict[str, Any]:
        return {"pipeline": self.kind, "samples": self.samples}

    def prove(self, weights: Weights) -> ProofResult:
        self.proofs += 1
        correct = count_correct(self.arch, weights, zdata.public_test_set(self.samples))
        claims = ProofClaims(self.commitment(weights), correct, self.samples, self.instances_digest)
        return ProofResult(self.proof(claims), claims.commitment, correct, self.samples,
                           {"witness_s": 0.01, "prove_s": 0.02})

    @staticmethod
    def proof(claims: ProofClaims) -> bytes:
        body = json.dumps(dataclasses.asdict(claims), sort_keys=True)
        return json.dumps({"claims": body, "mac": hmac.new(_PROOF_KEY, body.encode(), "sha256").hexdigest()}).encode()

    def commitment(self, weights: Weights) -> str:
        return hashlib.sha256(weights_to_bytes(weights)).hexdigest()

    def checker(self) -> FakeChecker:
        return FakeChecker()


class HomomorphicFake(FakeSystem):
    """A ``FakeSystem`` whose commitment is affine in the model's quantized message, like the fast circuit's KZG
    commitment: C(m) = (sum_j m_j * (j + 2)) * G + C0 on BN254 (one scalar multiplication, so tests stay fast),
    with the fast circuit's message layout. It supports verifiable aggregation; binding it is not (tests only)."""

    kind = "homomorphic-fake"

    def __init__(self, samples: int = SAMPLES) -> None:
        super().__init__(samples)
        from zkpot.zk.fast.aggregate import message_tensors
        from zkpot.zk.fast.spec import FastCircuitSpec

        tensors = message_tensors(FastCircuitSpec(samples=12, chunks=1, logrows=13), 1000)
        self.layout = AggregateLayout(tensors, sum(t.size for t in tensors), format_points([_C0]))

    def commitment(self, weights: Weights) -> str:
        return self.commit_message(encode(self.layout, weights))

    def aggregate_layout(self) -> AggregateLayout:
        return self.layout

    def commit_message(self, message: Sequence[int]) -> str:
        scalar = sum(int(m) * (j + 2) for j, m in enumerate(message)) % bn.curve_order
        return format_points([bn.add(bn.multiply(bn.G1, scalar), _C0)])


class FakeChecker:
    """``ProofChecker`` of ``FakeSystem`` proofs; counts its checks."""

    def __init__(self) -> None:
        self.checks = 0

    def check(self, proof: bytes) -> ProofClaims:
        self.checks += 1
        try:
            outer = json.loads(proof)
            body = str(outer["claims"])
            ok = hmac.compare_digest(outer["mac"], hmac.new(_PROOF_KEY, body.encode(), "sha256").hexdigest())
        except (ValueError, KeyError, TypeError):
            ok = False
        if not ok:
            raise ProofRejected(Reason.PROOF_INVALID, "the fake proof does not verify")
        return ProofClaims(**json.loads(body))


@dataclasses.dataclass
class Task:
    """The parties, genesis and shared infrastructure (bus server, blob store) of one test's network."""

    clients: int = 2
    validators: int = 4
    deadline_s: int = 60
    system: FakeSystem = dataclasses.field(default_factory=FakeSystem)
    member_provers: bool = False  # each member its own prover (Keyring.member_provers) instead of the pool
    member_producers: bool = False  # each member its own producer, secure aggregation (needs HomomorphicFake)
    grace_s: int = 1
    view_timeout_s: int = 5

    def __post_init__(self) -> None:
        self.keys = Keyring.generate(self.clients, self.validators, member_provers=self.member_provers,
                                     member_producers=self.member_producers)
        params = RoundParams(round_deadline_s=self.deadline_s, accuracy_floor_pct=0, grace_s=self.grace_s,
                             view_timeout_s=self.view_timeout_s)
        self.genesis: Genesis = make_genesis(self.system, self.keys.public(), params, created_ms=1)
        self.store = MemoryStore()
        self.blobs = StoreBlobs(self.store)
        self.bus = MemoryBus()
        self.arch = self.system.arch
        self.test_set = zdata.public_test_set(self.system.samples)

    async def __aenter__(self) -> Task:
        await self.bus.ensure_streams()
        return self

    async def __aexit__(self, *exc: object) -> None:
        await self.bus.close()

    # --- the services, each on its own client of the bus, with a new store unless given one -----------------

    def validator(self, i: int, store: MemoryValidatorRepo | None = None,
                  checker: FakeChecker | None = None) -> Validator:
        commit = self.system.commit_message if self.member_producers else None
        return Validator(self.bus.peer(), store or MemoryValidatorRepo(), self.blobs, self.genesis,
                         self.keys.validators[i], checker or FakeChecker(), Metrics("validator"), commit)

    def member_producer(self, i: int, store: MemoryProducerRepo | None = None, rounds: int = 1,
                        plan: Plan | None = None) -> MemberProducer:
        """Member ``i``'s producer; with ``plan`` one that lies as the plan says (``services.byzantine``)."""
        args = (self.bus.peer(), store or MemoryProducerRepo(), self.blobs, self.genesis, self.system,
                self.keys.producers[i], i, rounds, Metrics("block-producer"))
        return ByzantineProducer(*args, plan=plan) if plan else MemberProducer(*args)

    def producer(self, store: MemoryProducerRepo | None = None, rounds: int = 1, bus: Bus | None = None) -> Producer:
        return Producer(bus or self.bus.peer(), store or MemoryProducerRepo(), self.blobs, self.genesis, self.system,
                        self.keys.producer, self.keys.aggregator, rounds, Metrics("block-producer"), pool=threads)

    def trainer(self, i: int, store: MemoryTrainerRepo | None = None, samples: int = 12,
                masker: type[MaskingMember] = MaskingMember) -> Trainer:
        shard = zdata.client_shard(i, self.clients).head(samples)
        store = store or MemoryTrainerRepo()
        bus, metrics = self.bus.peer(), Metrics("trainer")
        masking = masker(bus, store, self.blobs, self.genesis, self.keys.clients[i], i, metrics) \
            if self.member_producers else None
        return Trainer(bus, store, self.blobs, self.genesis, self.keys.clients[i], i, shard,
                       self.keys.prover_box(i).public_hex, 1, metrics, masking)

    def prover(self, store: MemoryProverRepo | None = None, member: int | None = None) -> Prover:
        """The shared pool's prover, or (``member``, with ``member_provers``) that member's own."""
        if member is None:
            box, signer = self.keys.prover, self.keys.prover_signer
        else:
            box, signer = self.keys.prover_box(member), self.keys.prover_signing(member)
        return Prover(self.bus.peer(), store or MemoryProverRepo(), self.blobs, self.genesis, self.system, box,
                      signer, 1, Metrics("prover"), pool=threads, member=None if member is None else str(member))

    # --- what a member (honest or not) sends, built from real models, seals and signatures -------------------

    def weights(self, seed: int) -> Weights:
        return init_weights(self.arch, seed)

    async def tx(self, client: int, round_: int, parent: str, weights: Weights, *, sealed: Weights | None = None,
                 proof: bytes | None = None, correct: int | None = None, now_ms: int = 1) -> Transaction:
        """A signed tx with a real fake proof of ``weights``, its model sealed to the aggregator (``sealed``:
        other weights in its place); ``proof``/``correct`` replace the proof bytes or the claimed count."""
        result = self.system.prove(weights)
        proof = result.proof if proof is None else proof
        data = seal(weights_to_bytes(weights if sealed is None else sealed), self.genesis.aggregator_box_key)
        return make_tx(self.keys.clients[client], round_, parent, commitment=result.commitment,
                       correct=result.correct if correct is None else correct, samples=result.samples, proof=proof,
                       proof_cid=await self.blobs.put("proof", proof), model=SealedModel(data, 12),
                       model_cid=await self.blobs.put("model", data), now_ms=now_ms)

    async def submit(self, tx: Transaction, msg_id: str | None = None) -> None:
        await self.bus.publish(TX_SUBMITTED, tx.to_dict(), msg_id or tx.tx_id)

    def attestations(self, tx: Transaction, validators: range, reason: Reason = Reason.OK) -> list[Attestation]:
        """The named validators' signed verdicts on ``tx``."""
        keys = [self.keys.validators[i] for i in validators]
        return [Attestation(tx.tx_id, tx.round, k.public_hex, reason is Reason.OK, reason).sign(k) for k in keys]

    def votes(self, block: Block, validators: range, reason: Reason = Reason.OK) -> list[Vote]:
        keys = [self.keys.validators[i] for i in validators]
        return [Vote(block.hash, block.header.height, k.public_hex, reason is Reason.OK, reason).sign(k) for k in keys]

    async def attest(self, tx: Transaction, validators: range, reason: Reason = Reason.OK) -> None:
        """Publish the named validators' verdicts on ``tx`` as theirs."""
        for a in self.attestations(tx, validators, reason):
            await self.bus.publish(TX_ATTESTED, a.to_dict(), a.attestation_id)

    async def vote(self, block: Block, validators: range, reason: Reason = Reason.OK) -> None:
        for v in self.votes(block, validators, reason):
            await self.bus.publish(BLOCK_VOTE, v.to_dict(), v.vote_id)

    async def initial_model(self) -> tuple[str, bytes, int]:
        """The genesis model stored (as the producer stores it when it starts): CID, bytes and its count."""
        data = initial_model_bytes(self.arch)
        weights = weights_from_bytes(self.arch, data)
        return await self.blobs.put("global", data), data, count_correct(self.arch, weights, self.test_set)

    async def finalized(self, txs: list[Transaction], prev: BlockHeader | None = None,
                        **header: Any) -> Finalized:
        """A block of ``txs`` on ``prev`` (None: genesis) carrying the genesis model, with the attestations and
        the votes of validators 0..2; ``header`` fields replace the producer's (then re-signed by it)."""
        cid, data, correct = await self.initial_model()
        model = rproducer.GlobalModel(cid, sha256_hex(data), "c0", correct)
        round_ = 1 if prev is None else prev.round + 1
        block = rproducer.make_block(self.genesis, prev, round_, txs, [], model, self.keys.producer, 5)
        if header:
            block = Block.create(dataclasses.replace(block.header, **header), list(block.txs), [],
                                 self.keys.producer)
        attestations = {tx.tx_id: self.attestations(tx, range(3)) for tx in txs}
        return Finalized(Proposal.of(block, attestations), tuple(self.votes(block, range(3))))

    def payloads(self, subject: str) -> list[dict[str, Any]]:
        return [p.payload for p in self.bus.published(subject)]


class Unheard:
    """A bus whose ``block.finalized`` publishes answer "duplicate" and store nothing (the announcement is lost)."""

    def __init__(self, bus: MemoryBus) -> None:
        self.bus = bus

    async def publish(self, subject: str, payload: Mapping[str, Any], msg_id: str) -> bool:
        return False if subject == BLOCK_FINALIZED else await self.bus.publish(subject, payload, msg_id)

    def __getattr__(self, name: str) -> Any:
        return getattr(self.bus, name)


async def eventually(check: Callable[[], Any], what: str = "the expected state", timeout_s: float = WAIT_S) -> Any:
    """Wait until ``check()`` (sync or async) gives something truthy, a state the services must reach; return it."""
    try:
        async with asyncio.timeout(timeout_s):
            while True:
                found = check()
                found = await found if inspect.isawaitable(found) else found
                if found:
                    return found
                await asyncio.sleep(0.01)
    except TimeoutError:
        raise AssertionError(f"not reached within {WAIT_S}s: {what}") from None


def counter(metrics: Metrics, name: str, **labels: str) -> float:
    return metrics.registry.get_sample_value(f"{name}_total", labels) or 0.0
