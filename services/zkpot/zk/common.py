"""What both proof systems share around ezkl: its version, the build lock, the development SRS, the reference
weights compiled into every reference circuit, the field-element encoding and the parsing of an ezkl proof file."""

from __future__ import annotations

import fcntl
import json
import os
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from pathlib import Path
from typing import Any

from zkpot.domain.errors import ProofRejected
from zkpot.domain.reasons import Reason
from zkpot.errors import InputError
from zkpot.ml.model import Arch, Weights, init_weights
from zkpot.zk.artifacts import cache_root

EZKL_VERSION = "23.0.5"
REFERENCE_SEED = 0
MAX_PROOF_BYTES = 16 * 1024 * 1024
DEVELOPMENT_SRS = "development (generated on this machine, insecure)"

Progress = Callable[[str], None]


def quiet(_: str) -> None:
    """A Progress that shows nothing."""


class CircuitError(InputError):
    """The circuit could not be built or used."""


def reference_weights(arch: Arch) -> Weights:
    """Deterministic weights compiled into a reference circuit (their values do not reach the vk)."""
    return init_weights(arch, REFERENCE_SEED)


@contextmanager
def locked(path: Path) -> Iterator[None]:
    """Serialize builds of one circuit across processes (devnet services start together)."""
    path.parent.mkdir(parents=True, exist_ok=True)
    with path.open("w") as f:
        fcntl.flock(f, fcntl.LOCK_EX)
        try:
            yield
        finally:
            fcntl.flock(f, fcntl.LOCK_UN)


def dev_srs(logrows: int, progress: Progress = quiet) -> Path:
    """This machine's development SRS for 2^logrows rows (insecure: its toxic waste is not destroyed).

    One per size, shared by every local party: all parties must use the same SRS, and gen_srs draws fresh
    randomness on each call.
    """
    import ezkl

    path = cache_root() / "srs" / f"dev-k{logrows}.srs"
    with locked(path.with_suffix(".lock")):
        if not path.exists():
            progress(f"generating a DEVELOPMENT SRS (2^{logrows}, insecure: not from a ceremony)")
            tmp = path.with_name(f"{path.name}.{os.getpid()}.tmp")
            ezkl.gen_srs(str(tmp), logrows)
            os.replace(tmp, path)
    return path


SET_VALUED_SETTINGS = ("required_range_checks", "required_lookups")


def canonical_settings(settings: dict[str, Any]) -> dict[str, Any]:
    """``settings`` with the lists ezkl fills from a hash set in one fixed order.

    ezkl 23.0.5's gen_settings writes ``required_range_checks`` in hash order, so two runs over the same graph can
    list them differently; the order decides which columns the range-check tables take, hence the vk. Sorted, every
    node compiles the same circuit from the same graph.
    """
    out = dict(settings)
    for key in SET_VALUED_SETTINGS:
        if isinstance(out.get(key), list):
            out[key] = sorted(out[key], key=lambda item: json.dumps(item, sort_keys=True))
    return out


def felt_to_int(felt: str) -> int:
    """ezkl writes field elements as 32-byte little-endian hex."""
    return int.from_bytes(bytes.fromhex(felt), "little")


def parse_proof(proof: bytes) -> dict[str, Any]:
    if len(proof) > MAX_PROOF_BYTES:
        raise ProofRejected(Reason.MALFORMED, f"proof of {len(proof)} bytes exceeds {MAX_PROOF_BYTES}")
    try:
        doc = json.loads(proof)
    except (ValueError, RecursionError) as e:  # also too deep, or an int of over 4300 digits
        raise ProofRejected(Reason.MALFORMED, f"proof is not JSON: {e}") from e
    if not isinstance(doc, dict) or not isinstance(doc.get("proof"), list):
        raise ProofRejected(Reason.MALFORMED, "proof JSON lacks its 'proof' byte list")
    if not all(isinstance(b, int) and 0 <= b < 256 for b in doc["proof"]):
        raise ProofRejected(Reason.MALFORMED, "proof bytes must be integers 0..255")
    hex_proof = doc.get("hex_proof")
    if hex_proof is not None and hex_proof != "0x" + bytes(doc["proof"]).hex():
        raise ProofRejected(Reason.MALFORMED, "hex_proof and proof disagree")
    return doc


def proof_instances(doc: dict[str, Any]) -> list[str]:
    inst = doc.get("instances")
    if not (isinstance(inst, list) and len(inst) == 1 and isinstance(inst[0], list)):
        raise ProofRejected(Reason.MALFORMED, "proof JSON must carry one column of public instances")
    col = inst[0]
    if not all(isinstance(x, str) and len(x) == 64 for x in col):
        raise ProofRejected(Reason.MALFORMED, "public instances must be 32-byte hex field elements")
    try:
        bytes.fromhex("".join(col))
    except ValueError as e:
        raise ProofRejected(Reason.MALFORMED, "public instances are not hex") from e
    return col
