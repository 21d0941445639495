"""Pure computation of the CID Kubo assigns to a blob (no I/O).

The import parameters are fixed system-wide and equal to
``ipfs add --cid-version=1 --raw-leaves=true --chunker=size-262144`` with Kubo's default balanced layout
(boxo ``ipld/unixfs/importer/balanced``):

* the bytes are cut into 262144-byte chunks; each chunk is a *raw* block (codec 0x55);
* a blob of one chunk (including the empty blob) is that raw block, so its CID is the raw CID of the bytes;
* otherwise the root is a dag-pb (0x70) UnixFS ``File`` node of a balanced tree with at most 174 links per
  node: the first 174 leaves fill one depth-1 node, which becomes the first child of a depth-2 root, whose
  further children are filled depth-first, and so on; only the right-most spine is partially filled;
* an internal node is ``PBNode{Links, Data}``, links encoded before data (dag-pb canonical order); each link is
  ``PBLink{Hash=CID bytes, Name="", Tsize}``, where ``Tsize`` is the encoded size of the linked block plus the
  ``Tsize`` of all its links (the bytes one must fetch for that subtree); ``Data`` is
  ``UnixFS{Type=File(2), filesize, blocksizes[]}`` with ``blocksizes`` the *file* bytes under each link;
* every CID uses sha2-256 and is written in base32 lower case with the multibase prefix ``b``.

js-ipfs 0.66 (the test node) produces the same bytes; see tests/unit/storage/test_cid.py for vectors taken from
it. CIDs computed with other parameters (CIDv0, other chunkers, trickle layout) are valid IPFS CIDs but will not
equal ``compute_cid`` of the same bytes, so stores treat them as a mismatch.
"""

from __future__ import annotations

import base64
import hashlib
from collections.abc import Callable
from dataclasses import dataclass

from zkpot.storage._protobuf import field_bytes, field_varint, read_varint, varint
from zkpot.storage.errors import CidMismatch, InvalidCid

CHUNK_SIZE = 262_144
MAX_LINKS = 174
CODEC_RAW = 0x55
CODEC_DAG_PB = 0x70
_SHA2_256 = 0x12
_UNIXFS_FILE = 2
_BASE58_ALPHABET = "123456789ABCDEFGHJKLMNPQRSTUVWXYZabcdefghijkmnopqrstuvwxyz"

BlockSink = Callable[[bytes, "bytes | memoryview"], None]
"""Receives ``(binary CID, block bytes)`` for each block as it is built."""


def cid_for_block(codec: int, block: bytes | memoryview) -> bytes:
    """Binary CIDv1 of one block: version, codec, then the sha2-256 multihash."""
    digest = hashlib.sha256(block).digest()
    return varint(1) + varint(codec) + varint(_SHA2_256) + varint(len(digest)) + digest


def encode_cid(binary: bytes) -> str:
    """Multibase base32 (``b`` prefix, lower case, unpadded), Kubo's default text form of a CIDv1."""
    return "b" + base64.b32encode(binary).decode("ascii").rstrip("=").lower()


def parse_cid(text: str) -> bytes:
    """Decode a CIDv1 string (base32 ``b``/``B`` or base58btc ``z``) to bytes, checking its structure.

    Only what this system produces is accepted: CIDv1, codec raw or dag-pb, a 32-byte sha2-256 digest.
    Raises ``InvalidCid`` otherwise, which also makes the result safe to use as a file name.
    """
    try:
        binary = _decode_multibase(text)
        version, pos = read_varint(binary, 0)
        codec, pos = read_varint(binary, pos)
        hash_code, pos = read_varint(binary, pos)
        length, pos = read_varint(binary, pos)
    except ValueError as exc:
        raise InvalidCid(f"not a CID: {text!r} ({exc})") from None
    if version != 1 or codec not in (CODEC_RAW, CODEC_DAG_PB) or hash_code != _SHA2_256:
        raise InvalidCid(f"unsupported CID {text!r}: need CIDv1, raw or dag-pb, sha2-256")
    if length != 32 or len(binary) - pos != 32:
        raise InvalidCid(f"not a CID: {text!r} (bad digest length)")
    return binary


def normalize_cid(text: str) -> str:
    """Canonical text form (base32 lower case) of any accepted CID string."""
    return encode_cid(parse_cid(text))


def _decode_multibase(text: str) -> bytes:
    prefix, body = text[:1], text[1:]
    if prefix in ("b", "B") and body:
        padded = body.upper() + "=" * (-len(body) % 8)
        try:
            return base64.b32decode(padded)
        except ValueError as exc:
            raise ValueError(f"bad base32: {exc}") from None
    if prefix == "z" and body:
        return _b58decode(body)
    raise ValueError("unknown multibase prefix (expected 'b' or 'z')")


def _b58decode(text: str) -> bytes:
    number = 0
    for char in text:
        index = _BASE58_ALPHABET.find(char)
        if index < 0:
            raise ValueError(f"bad base58 character {char!r}")
        number = number * 58 + index
    leading_zeros = len(text) - len(text.lstrip("1"))
    return b"\x00" * leading_zeros + number.to_bytes((number.bit_length() + 7) // 8, "big")


@dataclass(frozen=True, slots=True)
class _Link:
    cid: bytes
    tsize: int  # encoded bytes of the whole subtree
    filesize: int  # file bytes under the subtree


class _BalancedBuilder:
    """Literal port of boxo's balanced ``Layout``/``fillNodeRec`` over an in-memory chunk cursor."""

    def __init__(self, data: bytes, sink: BlockSink | None) -> None:
        self._data = memoryview(data)
        self._offset = 0
        self._sink = sink

    def layout(self) -> _Link:
        root = self._leaf()  # a one-chunk (or empty) blob stays a bare raw block
        depth = 1
        while not self._done():
            root = self._fill(root, depth)
            depth += 1
        return root

    def _done(self) -> bool:
        return self._offset >= len(self._data)

    def _leaf(self) -> _Link:
        chunk = self._data[self._offset : self._offset + CHUNK_SIZE]
        self._offset += len(chunk)
        return self._emit(CODEC_RAW, chunk, len(chunk), len(chunk))

    def _fill(self, first: _Link | None, depth: int) -> _Link:
        links = [first] if first is not None else []
        while len(links) < MAX_LINKS and not self._done():
            links.append(self._leaf() if depth == 1 else self._fill(None, depth - 1))
        block = _encode_file_node(links)
        filesize = sum(link.filesize for link in links)
        return self._emit(CODEC_DAG_PB, block, len(block) + sum(link.tsize for link in links), filesize)

    def _emit(self, codec: int, block: bytes | memoryview, tsize: int, filesize: int) -> _Link:
        cid = cid_for_block(codec, block)
        if self._sink is not None:
            self._sink(cid, block)
        return _Link(cid, tsize, filesize)


def _encode_file_node(links: list[_Link]) -> bytes:
    unixfs = field_varint(1, _UNIXFS_FILE) + field_varint(3, sum(link.filesize for link in links))
    unixfs += b"".join(field_varint(4, link.filesize) for link in links)
    encoded_links = b"".join(
        field_bytes(2, field_bytes(1, link.cid) + field_bytes(2, b"") + field_varint(3, link.tsize))
        for link in links
    )
    return encoded_links + field_bytes(1, unixfs)


def build_dag(data: bytes, sink: BlockSink | None = None) -> str:
    """Build the DAG of ``data``, handing each block to ``sink`` (children before parents); return the root."""
    return encode_cid(_BalancedBuilder(data, sink).layout().cid)


def chunk_dag(data: bytes) -> tuple[str, dict[str, bytes]]:
    """Root CID and every block of the DAG keyed by its CID string (holds a copy of ``data`` in memory)."""
    blocks: dict[str, bytes] = {}

    def keep(cid: bytes, block: bytes | memoryview) -> None:
        blocks[encode_cid(cid)] = bytes(block)

    return build_dag(data, keep), blocks


def compute_cid(data: bytes) -> str:
    """The CID Kubo's ``ipfs add --cid-version=1 --raw-leaves --chunker=size-262144`` prints for ``data``."""
    return build_dag(data)


def check_blob(cid: str, data: bytes) -> str:
    """Return ``cid`` in canonical form if ``data`` is the blob it names; raise ``CidMismatch`` otherwise.

    Every read path (stores, gateway, client) calls this: a CID is only as good as the check on the bytes.
    """
    expected = normalize_cid(cid)
    actual = compute_cid(data)
    if actual != expected:
        raise CidMismatch(expected, actual)
    return expected
