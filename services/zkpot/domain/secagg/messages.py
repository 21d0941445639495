"""The wire messages of secure aggregation, one per phase, each signed by the member it names in ``client``.

Every message is public (the bus shows it to everyone): only the shares are secret, sealed to their recipient.
The masked vector itself travels as a blob; ``MaskedInput`` names it by sha256 and CID. Lists hold at most one
entry per genesis client and never name a member twice.
"""

import dataclasses
import hashlib
from collections.abc import Iterable, Sequence

from zkpot.domain import limits as lim
from zkpot.domain.errors import MalformedMessage
from zkpot.domain.limits import CID, HASH, ROUND, bounds
from zkpot.domain.messages import SCHEMA_VERSION
from zkpot.domain.schema import Bound, Message, SignedMessage
from zkpot.domain.secagg.field import ELEMENT_BYTES, R


@dataclasses.dataclass(frozen=True)
class MaskKeys(SignedMessage):
    """Member ``client``'s fresh public keys for ``round``: ``enc_pk`` receives sealed shares, ``mask_pk`` agrees
    pairwise masks; ``seed_commitment`` is sha256 of its self-mask seed, so a rebuilt seed can be checked."""

    round: int
    client: str
    enc_pk: str
    mask_pk: str
    seed_commitment: str
    signature: str = ""
    v: int = SCHEMA_VERSION

    SIGNER = "client"
    HEX_FIELDS = frozenset({"client", "enc_pk", "mask_pk", "seed_commitment", "signature"})
    BOUNDS = bounds(round=ROUND, client=HASH, enc_pk=HASH, mask_pk=HASH, seed_commitment=HASH)


@dataclasses.dataclass(frozen=True)
class EncryptedShare(Message):
    """``recipient``'s shares of the sender's self-mask seed and mask secret key, sealed to its ``enc_pk``."""

    recipient: str
    ciphertext: str

    HEX_FIELDS = frozenset({"recipient", "ciphertext"})
    BOUNDS = {"recipient": HASH, "ciphertext": lim.SEALED_SHARE}


@dataclasses.dataclass(frozen=True)
class ShareBundle(SignedMessage):
    """Member ``client``'s sealed shares, one per neighbour that advertised keys, sorted by recipient."""

    round: int
    client: str
    shares: tuple[EncryptedShare, ...]
    signature: str = ""
    v: int = SCHEMA_VERSION

    SIGNER = "client"
    HEX_FIELDS = frozenset({"client", "signature"})
    BOUNDS = bounds(round=ROUND, client=HASH, shares=Bound(items=lim.MAX_CLIENTS))

    def check_bounds(self) -> None:
        _distinct_others(self, self.client, [s.recipient for s in self.shares])

    def share_for(self, recipient: str) -> EncryptedShare | None:
        return next((s for s in self.shares if s.recipient == recipient), None)


@dataclasses.dataclass(frozen=True)
class MaskedInput(SignedMessage):
    """Member ``client``'s masked vector for the tx ``tx_id`` (a blob with this sha256 and CID), and the
    ``neighbours`` it actually masked with (sorted)."""

    round: int
    client: str
    tx_id: str
    vector_sha256: str
    vector_cid: str
    neighbours: tuple[str, ...]
    signature: str = ""
    v: int = SCHEMA_VERSION

    SIGNER = "client"
    HEX_FIELDS = frozenset({"client", "tx_id", "vector_sha256", "neighbours", "signature"})
    BOUNDS = bounds(round=ROUND, client=HASH, tx_id=HASH, vector_sha256=HASH, vector_cid=CID,
                    neighbours=lim.MEMBERS)

    def check_bounds(self) -> None:
        _distinct_others(self, self.client, self.neighbours)


@dataclasses.dataclass(frozen=True)
class RevealedShare(Message):
    """The revealer's share (x-coordinate and values, see ``shamir``) of one secret of ``owner``."""

    owner: str
    share: str

    HEX_FIELDS = frozenset({"owner", "share"})
    BOUNDS = {"owner": HASH, "share": lim.SHARE}


@dataclasses.dataclass(frozen=True)
class Reveal(SignedMessage):
    """Member ``client``'s shares of the survivors' self-mask ``seeds`` and of the dropped members' mask secret
    ``keys``; no owner appears in both (an honest member never reveals both secrets of one member)."""

    round: int
    client: str
    seeds: tuple[RevealedShare, ...]
    keys: tuple[RevealedShare, ...]
    signature: str = ""
    v: int = SCHEMA_VERSION

    SIGNER = "client"
    HEX_FIELDS = frozenset({"client", "signature"})
    BOUNDS = bounds(round=ROUND, client=HASH, seeds=Bound(items=lim.MAX_CLIENTS), keys=Bound(items=lim.MAX_CLIENTS))

    def check_bounds(self) -> None:
        owners = [s.owner for s in (*self.seeds, *self.keys)]
        if len(set(owners)) != len(owners):
            raise MalformedMessage("Reveal: an owner appears twice (both secrets of one member, or a duplicate)")


def vector_sha256(blob: bytes) -> str:
    return hashlib.sha256(blob).hexdigest()


def encode_vector(elements: Iterable[int]) -> bytes:
    """The blob of a masked vector: each field element as 32 bytes big-endian."""
    out = bytearray()
    for e in elements:
        if not 0 <= e < R:
            raise ValueError("a vector element is not a field element in [0, R)")
        out += e.to_bytes(ELEMENT_BYTES, "big")
    return bytes(out)


def decode_vector(blob: bytes, length: int) -> list[int]:
    """The ``length`` field elements of ``blob``; ``MalformedMessage`` for a wrong size or an element >= R."""
    if not 0 <= length <= lim.MAX_VECTOR_LENGTH:
        raise MalformedMessage(f"a vector has 0..{lim.MAX_VECTOR_LENGTH} elements, not {length}")
    if len(blob) != ELEMENT_BYTES * length:
        raise MalformedMessage(f"a vector of {length} elements is {ELEMENT_BYTES * length} bytes, got {len(blob)}")
    view = memoryview(blob)
    elements = [int.from_bytes(view[i:i + ELEMENT_BYTES], "big") for i in range(0, len(blob), ELEMENT_BYTES)]
    if any(e >= R for e in elements):
        raise MalformedMessage("a vector element is not below the field modulus")
    return elements


def _distinct_others(message: Message, client: str, members: Sequence[str]) -> None:
    if len(set(members)) != len(members) or client in members:
        raise MalformedMessage(f"{type(message).__name__}: a member is named twice, or the client names itself")
