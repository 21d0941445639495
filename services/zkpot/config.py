"""Typed service settings, read from the environment in exactly one place.

Every variable a service reads is declared here (``ENV`` lists them with their meaning), so the Helm chart and
the devnet can be checked against one list. Secrets are paths to files (Kubernetes Secrets mount as files) and
the settings objects never print key material.
"""

from __future__ import annotations

import dataclasses
import os
from collections.abc import Mapping
from pathlib import Path

from zkpot.errors import InputError

SERVICES = ("trainer", "prover", "validator", "block-producer", "ipfs-gateway")


@dataclasses.dataclass(frozen=True)
class Var:
    name: str
    help: str
    required_by: tuple[str, ...] = ()
    default: str | None = None


_ALL = SERVICES
ENV: tuple[Var, ...] = (
    # shared by every service
    Var("ZKPOT_SERVICE", "which service this process runs", (), None),
    Var("ZKPOT_NATS_URL", "NATS server URL (tls://host:port for TLS)", _ALL, None),
    Var("ZKPOT_NATS_NKEY_FILE", "file holding this party's NATS nkey seed (`zkpot keys gen`: nats-<party>.nk); "
        "unset connects without authentication", (), None),
    Var("ZKPOT_NATS_CA_FILE", "CA certificate (PEM) the NATS server's TLS certificate is checked against", (), None),
    Var("ZKPOT_DATABASE_URL", "PostgreSQL URL (postgresql+psycopg://user@host:port/db)", _ALL, None),
    Var("ZKPOT_GATEWAY_URL", "base URL of the ipfs-gateway service",
        ("trainer", "prover", "validator", "block-producer"), None),
    Var("ZKPOT_GENESIS", "path of the genesis (task) JSON file (the gateway reads its registered uploaders)",
        SERVICES, None),
    Var("ZKPOT_HTTP_PORT", "port of /healthz, /readyz and /metrics", (), "8080"),
    Var("ZKPOT_LOG_LEVEL", "log level (DEBUG, INFO, WARNING, ERROR)", (), "INFO"),
    Var("ZKPOT_INSTANCE", "instance name (pod name); names durable consumers and metrics", (), None),
    Var("ZKPOT_CACHE", "cache directory for circuit artifacts (pk, compiled circuits, SRS)", (), None),
    Var("ZKPOT_CIRCUITS", "folder of the frozen circuit specs (default: circuits/ of the source checkout)", (), None),
    # keys (files holding hex)
    Var("ZKPOT_KEY_FILE", "file holding this party's Ed25519 seed (hex)",
        ("trainer", "validator", "block-producer"), None),
    Var("ZKPOT_AGGREGATOR_KEY_FILE", "file holding the aggregator's X25519 private key (hex); the single producer "
        "of a genesis without per-member producers needs it", (), None),
    # trainer
    Var("ZKPOT_CLIENT_INDEX", "this member's index in the client registry", ("trainer",), None),
    Var("ZKPOT_TRAIN_DATA", "the member's private data (.npz with X, y); default: its shard of the task's pool", (),
        None),
    Var("ZKPOT_EPOCHS", "local training epochs per round", (), "20"),
    Var("ZKPOT_PROVER_BOX_KEY", "public X25519 key (hex) of this member's prover: the trainer seals its weights to it",
        ("trainer",), None),
    # prover
    Var("ZKPOT_PROVER_KEY_FILE", "file holding the prover's X25519 private key (hex), to open members' weights",
        ("prover",), None),
    Var("ZKPOT_PROVER_SIGNING_KEY_FILE", "file holding the prover's Ed25519 seed (hex): it signs proof results and "
        "uploads", ("prover",), None),
    Var("ZKPOT_PROVER_MEMBER", "the member (client index) whose own prover this is: it reads only that member's "
        "jobs (durable prover-<m>); unset: the shared pool (durable provers)", (), None),
    Var("ZKPOT_PROVER_WORKERS", "proof worker processes per prover", (), "1"),
    Var("ZKPOT_CIRCUIT_DIR", "directory holding the derived circuit artifacts (pk, vk, settings)",
        ("prover", "validator", "block-producer"), None),
    # block-producer
    Var("ZKPOT_ROUNDS", "stop opening rounds after this many (0: run forever)", (), "0"),
    Var("ZKPOT_PRODUCER_INDEX", "with per-member producers: the member (client index) whose producer this is",
        (), None),
    Var("ZKPOT_BYZANTINE", "adversary tests and experiments only: this member's producer lies when it leads "
        "(noise, own_model, drop_member, silent; comma-separated cycles over rounds; @2,4 only in those rounds)",
        (), None),
    Var("ZKPOT_AGGREGATION_WORKERS", "processes re-deriving the members' weight commitments in parallel", (), "2"),
    # ipfs-gateway
    Var("ZKPOT_IPFS_BACKEND", "blob store behind the gateway: 'kubo' (RPC API) or 'local' (embedded CAS)",
        ("ipfs-gateway",), None),
    Var("ZKPOT_IPFS_API", "Kubo RPC API base URL (with ZKPOT_IPFS_BACKEND=kubo)", (), None),
    Var("ZKPOT_BLOB_DIR", "directory of the embedded store (with ZKPOT_IPFS_BACKEND=local)", (), None),
    Var("ZKPOT_MAX_BLOB_BYTES", "largest blob the gateway accepts or serves; the cap of every kind without its own",
        (), str(64 * 1024 * 1024)),
    Var("ZKPOT_GATEWAY_MAX_PROOF_BYTES", "largest proof upload (default: ZKPOT_MAX_BLOB_BYTES)", (), None),
    Var("ZKPOT_GATEWAY_MAX_MODEL_BYTES", "largest sealed-model upload (default: ZKPOT_MAX_BLOB_BYTES)", (), None),
    Var("ZKPOT_GATEWAY_MAX_GLOBAL_BYTES", "largest global-model upload (default: ZKPOT_MAX_BLOB_BYTES)", (), None),
    Var("ZKPOT_GATEWAY_MAX_MASKED_BYTES", "largest masked-vector upload (default: ZKPOT_MAX_BLOB_BYTES)", (), None),
    Var("ZKPOT_GATEWAY_MAX_AGGREGATE_BYTES", "largest aggregate upload (default: ZKPOT_MAX_BLOB_BYTES)", (), None),
    Var("ZKPOT_GATEWAY_MAX_OTHER_BYTES", "largest upload of kind other (default: ZKPOT_MAX_BLOB_BYTES)", (), None),
    Var("ZKPOT_GATEWAY_UPLOADERS", "extra Ed25519 public keys (hex, comma-separated) that may upload models and "
        "proofs, beside the genesis parties (a load test)", (), ""),
    Var("ZKPOT_GATEWAY_CLOCK_SKEW_S", "how far a signed upload's time may be from the gateway's clock", (), "300"),
    Var("ZKPOT_GATEWAY_QUOTA_WINDOW_S", "rolling window of the per-uploader quotas, in seconds", (), "3600"),
    Var("ZKPOT_GATEWAY_QUOTA_BLOBS", "new blobs one uploader may store per window (0: no limit)", (), "5000"),
    Var("ZKPOT_GATEWAY_QUOTA_BYTES", "bytes of new blobs one uploader may store per window (0: no limit)", (),
        str(8 * 1024**3)),
    Var("ZKPOT_GATEWAY_RETAIN_ROUNDS", "keep sealed models and proofs of this many rounds behind the latest global "
        "model; older ones are unpinned (0: keep everything)", (), "100"),
    Var("ZKPOT_GATEWAY_RETENTION_INTERVAL_S", "seconds between two retention passes", (), "300"),
)
ENV_NAMES = frozenset(v.name for v in ENV)


def required_for(service: str) -> set[str]:
    """Variables without a default that ``service`` cannot start without."""
    return {v.name for v in ENV if service in v.required_by}


@dataclasses.dataclass(frozen=True)
class Settings:
    """The environment of one service process, checked once at start."""

    service: str
    values: Mapping[str, str]

    @classmethod
    def from_env(cls, service: str, environ: Mapping[str, str] | None = None) -> Settings:
        env = os.environ if environ is None else environ
        if service not in SERVICES:
            raise InputError(f"unknown service {service!r}; expected one of {', '.join(SERVICES)}")
        values = {v.name: env[v.name] for v in ENV if v.name in env}
        for v in ENV:
            if v.name not in values and v.default is not None:
                values[v.name] = v.default
        missing = sorted(required_for(service) - set(values))
        if missing:
            raise InputError(f"{service}: missing environment variable(s) {', '.join(missing)}")
        return cls(service, values)

    def get(self, name: str) -> str | None:
        if name not in ENV_NAMES:
            raise KeyError(f"{name} is not a declared setting (add it to zkpot.config.ENV)")
        return self.values.get(name)

    def string(self, name: str) -> str:
        value = self.get(name)
        if value is None:
            raise InputError(f"{self.service}: {name} is not set")
        return value

    def int(self, name: str) -> int:
        text = self.string(name)
        try:
            return int(text)
        except ValueError as e:
            raise InputError(f"{self.service}: {name} must be an integer, got {text!r}") from e

    def path(self, name: str) -> Path:
        return Path(self.string(name))

    def secret_hex(self, name: str) -> str:
        """Read a key file; the value never appears in repr or errors."""
        path = self.path(name)
        try:
            return path.read_text().strip()
        except OSError as e:
            raise InputError(f"{self.service}: cannot read {name} file {path}: {e.strerror}") from e

    def __repr__(self) -> str:
        return f"Settings({self.service}, {sorted(self.values)})"
