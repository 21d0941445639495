"""The task publisher's side: party keys and the genesis block that fixes the task.

Genesis names the public test set (content hash and the digest of its circuit instances), the architecture, the
circuit artifacts (hashes of settings, verifying key, SRS), the validator, producer, aggregator
and client keys, the round parameters and the initial global model (its CID is computed locally, so genesis can be
written before any IPFS node runs; the producer uploads those bytes when it starts).
"""

from __future__ import annotations

import dataclasses
import json
import os
import time
from collections.abc import Mapping
from pathlib import Path
from typing import Any

import nkeys

from zkpot.bus.parties import Parties
from zkpot.domain import AGGREGATION_RULES, BoxKeyPair, Genesis, SigningKey, bft_quorum, sha256_hex
from zkpot.domain.limits import MAX_N_TRAIN
from zkpot.errors import InputError
from zkpot.ml import data as zdata
from zkpot.ml import tasks
from zkpot.ml.model import Arch, init_weights, weights_to_bytes
from zkpot.storage.cid import compute_cid
from zkpot.zk.system import ProofSystem

INITIAL_MODEL_SEED = 1
TRAINING_POOL = 1797 - zdata.TEST_SIZE  # the digits training pool: the most a member trains on unless it has its own


def new_nkey_seed() -> str:
    """A fresh NATS user nkey seed (``SU...``)."""
    return bytes(nkeys.encode_seed(os.urandom(32), nkeys.PREFIX_BYTE_USER)).decode()


def nkey_public(seed: str) -> str:
    """The public user nkey (``U...``) of a seed."""
    kp = nkeys.from_seed(bytearray(seed.encode()))
    try:
        return bytes(kp.public_key).decode()
    finally:
        kp.wipe()


def nkey_file_name(identity: str) -> str:
    """The key folder's file holding one NATS identity's seed."""
    return f"nats-{identity}.nk"


@dataclasses.dataclass(frozen=True)
class Keyring:
    """Every party's secret key; ``public()`` is what genesis and the chart's ConfigMap carry.

    ``nats`` maps each NATS identity (``zkpot.bus.parties``: operator, producer, validator-<i>, trainer-<m>,
    prover or prover-<m>, watch, loadtest) to its nkey seed; empty for a key folder written before NATS
    authentication. ``member_provers`` holds, with ``generate(member_provers=True)``, each member's own prover's
    box and signing keys (then those provers, not the shared one, are genesis' provers and members seal to them).
    """

    producer: SigningKey
    aggregator: BoxKeyPair
    validators: tuple[SigningKey, ...]
    clients: tuple[SigningKey, ...]
    prover: BoxKeyPair  # the (devnet: shared) prover's key; members seal their weights to it for proving
    prover_signer: SigningKey  # the prover's identity: it signs its proof results and its gateway uploads
    nats: Mapping[str, str] = dataclasses.field(default_factory=dict, repr=False)
    member_provers: tuple[tuple[BoxKeyPair, SigningKey], ...] = ()  # member m's own prover: (box key, signer)
    producers: tuple[SigningKey, ...] = ()  # member m's own block producer (no single producer, no aggregator)

    @classmethod
    def generate(cls, clients: int, validators: int, *, member_provers: bool = False,
                 member_producers: bool = False) -> Keyring:
        if clients < 1 or validators < 1:
            raise InputError("need at least one client and one validator")
        own = tuple((BoxKeyPair.generate(), SigningKey.generate()) for _ in range(clients)) if member_provers else ()
        producers = tuple(SigningKey.generate() for _ in range(clients)) if member_producers else ()
        parties = Parties(clients, validators, member_provers, member_producers=member_producers)
        return cls(SigningKey.generate(), BoxKeyPair.generate(),
                   tuple(SigningKey.generate() for _ in range(validators)),
                   tuple(SigningKey.generate() for _ in range(clients)), BoxKeyPair.generate(), SigningKey.generate(),
                   {name: new_nkey_seed() for name in parties.names()}, own, producers)

    def parties(self) -> Parties:
        """The NATS parties these keys are for (the shared prover pool, or each member's own prover; the single
        producer, or each member's own)."""
        return Parties(len(self.clients), len(self.validators), bool(self.member_provers),
                       member_producers=bool(self.producers))

    def prover_box(self, member: int) -> BoxKeyPair:
        """The box key member ``member`` seals its weights to: its own prover's, else the shared pool's."""
        return self.member_provers[member][0] if self.member_provers else self.prover

    def prover_signing(self, member: int) -> SigningKey:
        """The signing key of the prover proving for ``member``."""
        return self.member_provers[member][1] if self.member_provers else self.prover_signer

    def nats_public(self) -> dict[str, str]:
        """NATS identity -> public nkey (what `zkpot nats config` writes into the server's authorization)."""
        return {name: nkey_public(seed) for name, seed in self.nats.items()}

    def nats_seed(self, identity: str) -> str:
        if identity not in self.nats:
            raise InputError(f"no NATS nkey for {identity!r} in these keys (a folder from before NATS "
                             "authentication? run `zkpot keys gen` again)")
        return self.nats[identity]

    def public(self) -> dict[str, Any]:
        out: dict[str, Any] = {
            "producer": self.producer.public_hex,
            "aggregator_box_key": self.aggregator.public_hex,
            "validators": [k.public_hex for k in self.validators],
            "clients": [k.public_hex for k in self.clients],
            "prover_box_key": self.prover.public_hex,
            "provers": [s.public_hex for _, s in self.member_provers] or [self.prover_signer.public_hex],
        }
        if self.member_provers:
            out["member_prover_box_keys"] = [b.public_hex for b, _ in self.member_provers]
        if self.producers:
            out["producers"] = [k.public_hex for k in self.producers]
        if self.nats:
            out["nats"] = self.nats_public()
        return out

    def files(self) -> dict[str, str]:
        """File name -> secret (hex, or an nkey seed), the layout `zkpot keys gen` writes and the services read."""
        out = {"producer.key": self.producer.seed_hex, "aggregator.key": self.aggregator.private_hex,
               "prover.key": self.prover.private_hex, "prover-signer.key": self.prover_signer.seed_hex}
        out.update({f"validator-{i}.key": k.seed_hex for i, k in enumerate(self.validators)})
        out.update({f"client-{i}.key": k.seed_hex for i, k in enumerate(self.clients)})
        for m, (box, signer) in enumerate(self.member_provers):
            out.update({f"prover-{m}.key": box.private_hex, f"prover-{m}-signer.key": signer.seed_hex})
        out.update({f"producer-{m}.key": k.seed_hex for m, k in enumerate(self.producers)})
        out.update({nkey_file_name(name): seed for name, seed in self.nats.items()})
        return out

    def write(self, out: Path) -> None:
        out.mkdir(parents=True, exist_ok=True)
        for name, secret in self.files().items():
            path = out / name
            path.write_text(secret + "\n")
            path.chmod(0o600)
        (out / "public.json").write_text(json.dumps(self.public(), indent=2) + "\n")

    @classmethod
    def read(cls, folder: Path) -> Keyring:
        try:
            public = json.loads((folder / "public.json").read_text())
            read = lambda name: (folder / name).read_text().strip()  # noqa: E731
            nats = {name: read(nkey_file_name(name)) for name in public.get("nats", {})}
            for name, key in public.get("nats", {}).items():
                if nkey_public(nats[name]) != key:
                    raise ValueError(f"{nkey_file_name(name)} does not hold the nkey public.json names")
            own = tuple((BoxKeyPair.from_hex(read(f"prover-{m}.key")),
                         SigningKey.from_hex(read(f"prover-{m}-signer.key")))
                        for m in range(len(public.get("member_prover_box_keys", ()))))
            producers = tuple(SigningKey.from_hex(read(f"producer-{m}.key"))
                              for m in range(len(public.get("producers", ()))))
            return cls(SigningKey.from_hex(read("producer.key")), BoxKeyPair.from_hex(read("aggregator.key")),
                       tuple(SigningKey.from_hex(read(f"validator-{i}.key")) for i in range(len(public["validators"]))),
                       tuple(SigningKey.from_hex(read(f"client-{i}.key")) for i in range(len(public["clients"]))),
                       BoxKeyPair.from_hex(read("prover.key")),
                       SigningKey.from_hex(read("prover-signer.key")), nats, own, producers)
        except (OSError, KeyError, ValueError, nkeys.NkeysError) as e:
            raise InputError(f"{folder} is not a key folder written by `zkpot keys gen`: {e}") from e


@dataclasses.dataclass(frozen=True)
class RoundParams:
    round_deadline_s: int = 600
    accuracy_floor_pct: int = 50
    aggregation: str = "fedavg"
    quorum: int | None = None  # default: the BFT quorum of the validator set
    max_n_train: int = 0  # the most training samples a transaction may claim (its FedAvg weight); 0: the task's pool
    grace_s: int = 5  # with per-member producers: after the cutoff, before the first view (docs/consensus.md)
    view_timeout_s: int = 30  # how long each view's proposer has
    secagg_degree: int = 0  # neighbours each member masks with (0: all)
    secagg_threshold: int = 0  # shares that rebuild a secret (0: more than half the neighbourhood)

    def __post_init__(self) -> None:
        if self.aggregation not in AGGREGATION_RULES:
            raise InputError(f"aggregation must be one of {', '.join(AGGREGATION_RULES)}")
        if not 0 <= self.accuracy_floor_pct <= 100:
            raise InputError("the accuracy floor is a percentage, 0..100")
        if not 0 <= self.max_n_train <= MAX_N_TRAIN:
            raise InputError(f"max_n_train must lie in 1..{MAX_N_TRAIN} (0: the task's training pool)")


def initial_model_bytes(arch: Arch) -> bytes:
    return weights_to_bytes(init_weights(arch, INITIAL_MODEL_SEED))


def make_genesis(system: ProofSystem, public: dict[str, Any], params: RoundParams = RoundParams(),
                 task_id: str | None = None, created_ms: int | None = None) -> Genesis:
    """The genesis block of a task proven with ``system`` among the parties in ``public``."""
    try:
        validators, clients = tuple(public["validators"]), tuple(public["clients"])
        producer, aggregator = public["producer"], public["aggregator_box_key"]
        provers = tuple(public.get("provers", ()))
        producers = tuple(public.get("producers", ()))
    except KeyError as e:
        raise InputError(f"public keys lack {e}") from e
    samples = system.samples
    quorum = params.quorum or bft_quorum(len(validators))
    if not 1 <= quorum <= len(validators):
        raise InputError(f"quorum {quorum} is impossible with {len(validators)} validators")
    model = initial_model_bytes(system.arch)
    circuit = system.summary()
    if producers:  # no single producer, no aggregator key: members aggregate securely, anyone checks the sum
        producer = aggregator = ""
        circuit["aggregate"] = system.aggregate_layout().to_dict()
    return Genesis(
        task_id=task_id or f"{system.task}-mlp",
        created_ms=created_ms if created_ms is not None else int(time.time() * 1000),
        dataset=tasks.get(system.task).dataset_id,
        test_set_sha256=system.test_set_sha256,
        test_instances_digest=system.instances_digest,
        samples=samples,
        arch=system.arch.to_dict(),
        circuit=circuit,
        validators=validators,
        producer=producer,
        aggregator_box_key=aggregator,
        clients=clients,
        provers=provers,
        quorum=quorum,
        round_deadline_s=params.round_deadline_s,
        accuracy_floor=samples * params.accuracy_floor_pct // 100,
        initial_model_cid=compute_cid(model),
        initial_model_sha256=sha256_hex(model),
        aggregation=params.aggregation,
        max_n_train=params.max_n_train or tasks.get(system.task).pool_size,
        producers=producers,
        grace_s=params.grace_s if producers else 5,
        view_timeout_s=params.view_timeout_s if producers else 30,
        secagg_degree=params.secagg_degree if producers else 0,
        secagg_threshold=params.secagg_threshold if producers else 0,
        task=system.task,
    )


def read_public_keys(path: Path) -> dict[str, Any]:
    try:
        public: dict[str, Any] = json.loads(path.read_text())
    except FileNotFoundError as e:
        raise InputError(f"no such public key file: {path}") from e
    except json.JSONDecodeError as e:
        raise InputError(f"{path} is not JSON: {e}") from e
    if not isinstance(public, dict):
        raise InputError(f"{path} must hold a JSON object of public keys")
    return public


def write_genesis(genesis: Genesis, path: Path) -> None:
    path.parent.mkdir(parents=True, exist_ok=True)
    path.write_text(json.dumps(genesis.to_dict(), indent=2, sort_keys=True) + "\n")


def read_genesis(path: Path) -> Genesis:
    try:
        return Genesis.from_dict(json.loads(path.read_text()))
    except FileNotFoundError as e:
        raise InputError(f"no such genesis file: {path}") from e
    except json.JSONDecodeError as e:
        raise InputError(f"{path} is not JSON: {e}") from e


def check_circuit(genesis: Genesis, system: ProofSystem) -> list[str]:
    """Differences between the circuit a node derived and the one genesis pins (empty: they agree)."""
    ours = system.summary()
    theirs = dict(genesis.circuit)
    theirs.setdefault("pipeline", "plain")  # genesis files written before pipelines were named
    if "aggregate" in theirs:  # per-member producers: the message layout and C0 this circuit gives
        ours["aggregate"] = system.aggregate_layout().to_dict()
    return [f"{k}: genesis {theirs.get(k)!r}, local {ours.get(k)!r}"
            for k in sorted(set(ours) | set(theirs)) if theirs.get(k) != ours.get(k)]
