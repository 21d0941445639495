"""Wire messages of the ZKPoT protocol: transactions, attestations, blocks, votes and the genesis (task).

All numbers are integers (accuracy is ``correct`` out of ``samples``), keys, hashes and signatures are
lower-case hex, and every message carries a schema version ``v``. Ids and hashes are sha256 of canonical
encodings (see ``encoding.canonical``); signatures never feed into an id.
"""

import dataclasses
import functools
from typing import Any, Self

from zkpot.domain import limits as lim
from zkpot.domain.encoding import digest
from zkpot.domain.errors import MalformedMessage
from zkpot.domain.keys import SigningKey, verify_signature
from zkpot.domain.limits import CID, COMMITMENT, COUNT, HASH, NAME, REASON, ROUND, bounds
from zkpot.domain.schema import Bound, Message, SignedMessage

SCHEMA_VERSION = 1


@dataclasses.dataclass(frozen=True)
class Transaction(SignedMessage):
    """A client's claim: the model committed to by ``commitment`` gets ``correct`` of ``samples`` right."""

    round: int
    parent: str
    client: str
    commitment: str
    correct: int
    samples: int
    proof_cid: str
    proof_sha256: str
    model_cid: str
    model_sha256: str
    n_train: int
    timestamp_ms: int
    signature: str = ""
    v: int = SCHEMA_VERSION

    SIGNER = "client"
    HEX_FIELDS = frozenset({"parent", "client", "proof_sha256", "model_sha256", "signature"})
    BOUNDS = bounds(round=ROUND, parent=HASH, client=HASH, commitment=COMMITMENT, correct=COUNT, samples=COUNT,
                    proof_cid=CID, proof_sha256=HASH, model_cid=CID, model_sha256=HASH, n_train=lim.N_TRAIN)

    @functools.cached_property
    def tx_id(self) -> str:
        return self.payload_id


@dataclasses.dataclass(frozen=True)
class Attestation(SignedMessage):
    """A validator's verdict on one transaction; ``reason`` is a ``Reason`` value ("ok" when valid)."""

    tx_id: str
    round: int
    validator: str
    valid: bool
    reason: str
    signature: str = ""
    v: int = SCHEMA_VERSION

    SIGNER = "validator"
    HEX_FIELDS = frozenset({"tx_id", "validator", "signature"})
    BOUNDS = bounds(tx_id=HASH, round=ROUND, validator=HASH, reason=REASON)

    @functools.cached_property
    def attestation_id(self) -> str:
        return self.payload_id


@dataclasses.dataclass(frozen=True)
class Vote(SignedMessage):
    """A validator's verdict on a proposed block."""

    block_hash: str
    height: int
    validator: str
    accept: bool
    reason: str
    signature: str = ""
    v: int = SCHEMA_VERSION

    SIGNER = "validator"
    HEX_FIELDS = frozenset({"block_hash", "validator", "signature"})
    BOUNDS = bounds(block_hash=HASH, height=ROUND, validator=HASH, reason=REASON)

    @functools.cached_property
    def vote_id(self) -> str:
        return self.payload_id


@dataclasses.dataclass(frozen=True)
class BlockHeader(Message):
    """Everything a block commits to; ``leader_*`` are empty / 0 when the block has no transactions."""

    height: int
    round: int
    prev_hash: str
    timestamp_ms: int
    producer: str
    leader_client: str
    leader_tx: str
    leader_correct: int
    samples: int
    tx_root: str
    accepted: int
    rejected: int
    model_cid: str
    model_sha256: str
    model_commitment: str
    global_correct: int
    global_samples: int
    aggregation: str
    genesis_hash: str
    v: int = SCHEMA_VERSION
    # with per-member producers (genesis ``producers``): the blob of the integer aggregate S (32-byte field
    # elements) that the global model decodes from, its sha256 and the total weight it is divided by
    aggregate_cid: str = ""
    aggregate_sha256: str = ""
    aggregate_total: int = 0

    HEX_FIELDS = frozenset(
        {"prev_hash", "producer", "leader_client", "leader_tx", "tx_root", "model_sha256", "genesis_hash",
         "aggregate_sha256"}
    )
    LATE_FIELDS = frozenset({"aggregate_cid", "aggregate_sha256", "aggregate_total"})
    BOUNDS = bounds(
        height=ROUND, round=ROUND, prev_hash=HASH, producer=lim.HASH_OR_EMPTY, leader_client=lim.HASH_OR_EMPTY,
        leader_tx=lim.HASH_OR_EMPTY, leader_correct=COUNT, samples=COUNT, tx_root=HASH,
        accepted=Bound(max=lim.MAX_TXS), rejected=Bound(max=lim.MAX_REJECTED), model_cid=CID, model_sha256=HASH,
        model_commitment=COMMITMENT, global_correct=COUNT, global_samples=COUNT, aggregation=NAME, genesis_hash=HASH,
        aggregate_cid=lim.CID_OR_EMPTY, aggregate_sha256=lim.HASH_OR_EMPTY, aggregate_total=lim.AGGREGATE_TOTAL,
    )

    @functools.cached_property
    def block_hash(self) -> str:
        return digest(self.to_dict())


@dataclasses.dataclass(frozen=True)
class RejectedTx(Message):
    """A transaction the producer left out, with the ``Reason`` value why."""

    tx_id: str
    client: str
    reason: str
    v: int = SCHEMA_VERSION

    HEX_FIELDS = frozenset({"tx_id", "client"})
    BOUNDS = bounds(tx_id=HASH, client=HASH, reason=REASON)


@dataclasses.dataclass(frozen=True)
class Block(Message):
    """A header, the producer's signature over its hash, and the body (txs sorted by tx id).

    With per-member producers the header names no producer (``producer`` is empty): ``proposer`` signs, in
    ``view``, outside the hash, so every proposer of a round's views builds the same block and a vote for it
    holds in every view (docs/consensus.md)."""

    header: BlockHeader
    signature: str
    txs: tuple[Transaction, ...]
    rejected: tuple[RejectedTx, ...]
    v: int = SCHEMA_VERSION
    proposer: str = ""
    view: int = 0

    HEX_FIELDS = frozenset({"signature", "proposer"})
    LATE_FIELDS = frozenset({"proposer", "view"})
    BOUNDS = bounds(signature=Bound(lengths=(128,)), txs=Bound(items=lim.MAX_TXS),
                    rejected=Bound(items=lim.MAX_REJECTED), proposer=lim.HASH_OR_EMPTY, view=lim.VIEW)

    @property
    def hash(self) -> str:
        return self.header.block_hash

    @classmethod
    def create(
        cls,
        header: BlockHeader,
        txs: tuple[Transaction, ...] | list[Transaction],
        rejected: tuple[RejectedTx, ...] | list[RejectedTx],
        key: SigningKey,
        *,
        view: int | None = None,
    ) -> Self:
        """Sign ``header`` with ``key``; txs and rejected entries are put in tx-id order. ``view`` (per-member
        producers) makes ``key`` the view's proposer instead of the header's producer."""
        signature = key.sign(bytes.fromhex(header.block_hash))
        return cls(
            header=header,
            signature=signature,
            txs=tuple(sorted(txs, key=lambda tx: tx.tx_id)),
            rejected=tuple(sorted(rejected, key=lambda r: r.tx_id)),
            proposer="" if view is None else key.public_hex,
            view=view or 0,
        )

    @property
    def signer(self) -> str:
        """Who signed the block: the view's proposer, or the header's producer (single-producer genesis)."""
        return self.proposer or self.header.producer

    def signature_valid(self) -> bool:
        return bool(self.signer) and verify_signature(self.signer, bytes.fromhex(self.hash), self.signature)


@dataclasses.dataclass(frozen=True)
class Genesis(Message):
    """The task, published once: test set, architecture, circuit manifest, keys and round parameters.

    ``arch`` and ``circuit`` are opaque to the domain (JSON objects without floats); treat them as read-only,
    since ``genesis_hash`` is recomputed from them. ``max_n_train`` bounds the training-set size a transaction may
    claim (its FedAvg weight); genesis files written before it existed decode with the schema's own bound and keep
    their hash.
    """

    task_id: str
    created_ms: int
    dataset: str
    test_set_sha256: str
    test_instances_digest: str
    samples: int
    arch: dict[str, Any]
    circuit: dict[str, Any]
    validators: tuple[str, ...]
    producer: str  # the single block producer; empty with per-member ``producers``
    aggregator_box_key: str  # the producer's sealed-box key; empty with per-member ``producers`` (nobody opens)
    clients: tuple[str, ...]
    quorum: int
    round_deadline_s: int
    accuracy_floor: int
    initial_model_cid: str
    initial_model_sha256: str
    aggregation: str
    provers: tuple[str, ...] = ()  # the provers' Ed25519 keys: they sign proof results and gateway uploads
    v: int = SCHEMA_VERSION
    max_n_train: int = lim.MAX_N_TRAIN
    producers: tuple[str, ...] = ()  # each member's block producer key, index-aligned with ``clients``
    grace_s: int = 5  # after the cutoff, before view 0 (docs/consensus.md)
    view_timeout_s: int = 30  # how long a view's proposer has before the next by rank may propose
    secagg_degree: int = 0  # each member masks with this many neighbours (SecAgg+); 0: with every other member
    secagg_threshold: int = 0  # shares that rebuild a member's secret; 0: more than half its neighbourhood
    task: str = "digits"  # the task's name (zkpot.ml.tasks): digits or mnist; ``dataset`` names its data

    HEX_FIELDS = frozenset(
        {"test_set_sha256", "validators", "producer", "aggregator_box_key", "clients", "initial_model_sha256",
         "provers", "producers"}
    )
    BOUNDS = bounds(
        task_id=NAME, dataset=NAME, test_set_sha256=HASH, test_instances_digest=NAME, samples=COUNT,
        arch=lim.OBJECT, circuit=lim.OBJECT, validators=Bound(lengths=(64,), items=lim.MAX_VALIDATORS),
        producer=lim.HASH_OR_EMPTY, aggregator_box_key=lim.HASH_OR_EMPTY,
        clients=Bound(lengths=(64,), items=lim.MAX_CLIENTS),
        quorum=Bound(max=lim.MAX_VALIDATORS), round_deadline_s=Bound(max=lim.MAX_DEADLINE_S), accuracy_floor=COUNT,
        initial_model_cid=CID, initial_model_sha256=HASH, aggregation=NAME, max_n_train=lim.N_TRAIN,
        producers=Bound(lengths=(64,), items=lim.MAX_CLIENTS), grace_s=Bound(max=lim.MAX_DEADLINE_S),
        view_timeout_s=Bound(max=lim.MAX_DEADLINE_S), secagg_degree=Bound(max=lim.MAX_CLIENTS),
        secagg_threshold=Bound(max=lim.MAX_CLIENTS), task=NAME,
    )
    LATE_FIELDS = frozenset({"max_n_train", "producers", "grace_s", "view_timeout_s", "secagg_degree",
                             "secagg_threshold", "task"})

    def check_bounds(self) -> None:
        pairs = len(self.clients) * len(self.validators)
        if pairs > lim.MAX_ATTESTATIONS:
            raise MalformedMessage(f"Genesis: {len(self.clients)} clients x {len(self.validators)} validators is "
                                   f"{pairs} attestations a round, at most {lim.MAX_ATTESTATIONS} fit a block message")
        if self.view_timeout_s < 1:
            raise MalformedMessage("Genesis: view_timeout_s must be at least 1")
        if self.producers and len(self.producers) != len(self.clients):
            raise MalformedMessage(f"Genesis: {len(self.producers)} producers for {len(self.clients)} members (one "
                                   "each, index-aligned)")

    @property
    def genesis_hash(self) -> str:
        return digest(self.to_dict())


def bft_quorum(n: int) -> int:
    """Smallest number of votes out of ``n`` validators such that any two quorums share an honest one.

    With f = (n - 1) // 3 tolerated faults that is (n + f) // 2 + 1: exactly 2f + 1 when n = 3f + 1, and more
    when n is not of that form (n = 5 needs 4, since two sets of 2f + 1 = 3 could overlap in one faulty node).
    """
    if n < 1:
        raise ValueError(f"need at least one validator, got {n}")
    f = (n - 1) // 3
    return (n + f) // 2 + 1
