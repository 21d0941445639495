"""The weight commitment a proof exposes, read from the proof or recomputed from a witness, bit-exactly.

``polycommit``: the weights sit in unblinded advice columns, so the KZG commitment to them is deterministic and is
the first point(s) of the proof transcript. ezkl 23 writes the transcript as uncompressed points (x then y, each
32 bytes big-endian); the witness file holds the same points compressed (x little-endian, bit 7 of the last byte =
parity of y). The canonical form on the ledger is the transcript form: hex of ``64 * points`` bytes.

``hashed``: the Poseidon hash of the weights is a public instance; its canonical form is the concatenated felts.
"""

from __future__ import annotations

from collections.abc import Callable, Mapping, Sequence
from pathlib import Path
from typing import Any

from zkpot.domain.verifiable import AggregateLayout, TensorLayout, encode, felts
from zkpot.errors import InputError
from zkpot.zk.common import CircuitError

# BN254 base field modulus (the curve y^2 = x^3 + 3 over it carries the KZG commitments)
BN254_P = 0x30644E72E131A029B85045B68181585D97816A916871CA8D3C208C16D87CFD47
POINT_BYTES = 64


def decompress_g1(compressed_hex: str) -> bytes:
    """halo2curves' compressed G1 (32 bytes, x little-endian, flags in the top bits) -> x || y big-endian."""
    raw = bytes.fromhex(compressed_hex)
    if len(raw) != 32:
        raise InputError(f"a compressed G1 point is 32 bytes, got {len(raw)}")
    y_odd, infinity = raw[31] >> 7, (raw[31] >> 6) & 1
    if infinity:
        return bytes(POINT_BYTES)
    x = int.from_bytes(raw[:31] + bytes([raw[31] & 0x3F]), "little")
    rhs = (pow(x, 3, BN254_P) + 3) % BN254_P
    y = pow(rhs, (BN254_P + 1) // 4, BN254_P)  # p = 3 mod 4
    if y * y % BN254_P != rhs or x >= BN254_P:
        raise InputError("compressed point is not on the BN254 curve")
    if y & 1 != y_odd:
        y = BN254_P - y
    return x.to_bytes(32, "big") + y.to_bytes(32, "big")


def witness_commitment(kind: str, witness: Mapping[str, Any]) -> str:
    """The canonical commitment of the weights a witness was computed from."""
    params = witness["processed_params"]
    if kind == "polycommit":
        return b"".join(decompress_g1(p) for group in params["polycommit"] for p in group).hex()
    return "".join(params["poseidon_hash"])


def commitment_layout(kind: str, witness: Mapping[str, Any]) -> dict[str, Any]:
    """How a verifier finds the weight commitment in a proof of this circuit."""
    params = witness["processed_params"]
    if kind == "polycommit":
        return {"kind": kind, "points": sum(len(group) for group in params["polycommit"])}
    return {"kind": kind, "elements": len(params["poseidon_hash"])}


def proof_commitment(layout: Mapping[str, Any], proof_bytes: Sequence[int], hashed: Sequence[str]) -> str:
    """The commitment a proof binds: its first transcript points, or the Poseidon instances ``hashed``."""
    if layout["kind"] == "hashed":
        return "".join(hashed)
    n = POINT_BYTES * int(layout["points"])
    if len(proof_bytes) < n:
        raise ValueError("proof is shorter than its commitment")
    return bytes(proof_bytes[:n]).hex()


def kzg_commit_message(message: Sequence[int], vk: Path, settings: Path, srs: Path) -> str:
    """The canonical polycommit commitment of a signed integer message, as a proof of a circuit with these
    artifacts would expose it (``ezkl.kzg_commit``; ezkl splits a message longer than one column's usable rows into
    several polynomials, one point each). Elements of any size up to (r - 1) / 2 in magnitude."""
    import ezkl

    message_felts = [v.to_bytes(32, "little").hex() for v in felts(message)]
    points = ezkl.kzg_commit(message_felts, str(vk), str(settings), str(srs))
    # PyG1Affine's stub declares no fields; at runtime x and y are little-endian hex
    coords = [(str(getattr(p, "x")), str(getattr(p, "y"))) for p in points]  # noqa: B009
    return b"".join(bytes.fromhex(x)[::-1] + bytes.fromhex(y)[::-1] for x, y in coords).hex()


def checked_layout(tensors: tuple[TensorLayout, ...], commit: Callable[[list[int]], str],
                   reference: tuple[Mapping[str, Any], str] | None) -> AggregateLayout:
    """The layout of ``tensors`` with c0 = commit(zeros); with ``reference`` = (weights, the commitment the circuit
    gives them), refuse the layout unless encoding the weights and committing reproduces it."""
    elements = sum(t.size for t in tensors)
    layout = AggregateLayout(tensors, elements, commit([0] * elements))
    if reference is not None:
        weights, expected = reference
        if commit(encode(layout, weights)) != expected:
            raise CircuitError("this circuit does not commit to its weights as the aggregate layout encodes them "
                               "(its quantization differs): verifiable aggregation is not available for it")
    return layout
