"""Merkle tree hash over tx ids, as in RFC 6962 / RFC 9162 section 2.1 (Certificate Transparency).

Leaves are the raw bytes of hex strings; leaf hash = sha256(0x00 || leaf), node hash = sha256(0x01 || left ||
right), and a list of n > 1 leaves splits at the largest power of two smaller than n. The empty tree hashes to
sha256(b"").
"""

import hashlib
from collections.abc import Sequence


def _leaf_hash(leaf: bytes) -> bytes:
    return hashlib.sha256(b"\x00" + leaf).digest()


def _node_hash(left: bytes, right: bytes) -> bytes:
    return hashlib.sha256(b"\x01" + left + right).digest()


def _split(n: int) -> int:
    """Largest power of two smaller than ``n`` (n >= 2)."""
    return 1 << ((n - 1).bit_length() - 1)


def _root(leaves: Sequence[bytes]) -> bytes:
    if len(leaves) == 1:
        return _leaf_hash(leaves[0])
    k = _split(len(leaves))
    return _node_hash(_root(leaves[:k]), _root(leaves[k:]))


def _path(index: int, leaves: Sequence[bytes]) -> list[bytes]:
    if len(leaves) == 1:
        return []
    k = _split(len(leaves))
    if index < k:
        return [*_path(index, leaves[:k]), _root(leaves[k:])]
    return [*_path(index - k, leaves[k:]), _root(leaves[:k])]


def merkle_root(leaves_hex: Sequence[str]) -> str:
    """Root hash (hex) of the tree over ``leaves_hex`` in the given order."""
    if not leaves_hex:
        return hashlib.sha256(b"").hexdigest()
    return _root([bytes.fromhex(leaf) for leaf in leaves_hex]).hex()


def merkle_proof(leaves_hex: Sequence[str], index: int) -> list[str]:
    """Audit path (sibling hashes, leaf to root) proving that leaf ``index`` is in the tree."""
    if not 0 <= index < len(leaves_hex):
        raise IndexError(f"leaf {index} out of range for {len(leaves_hex)} leaves")
    return [h.hex() for h in _path(index, [bytes.fromhex(leaf) for leaf in leaves_hex])]


def verify_merkle_proof(leaf_hex: str, index: int, size: int, path: Sequence[str], root_hex: str) -> bool:
    """True iff ``path`` proves ``leaf_hex`` is leaf ``index`` of a ``size``-leaf tree with ``root_hex``."""
    try:
        node = _leaf_hash(bytes.fromhex(leaf_hex))
        siblings = [bytes.fromhex(p) for p in path]
    except ValueError:
        return False
    if not 0 <= index < size:
        return False
    fn, sn = index, size - 1
    for sibling in siblings:
        if sn == 0:
            return False
        if fn & 1 or fn == sn:
            node = _node_hash(sibling, node)
            while not fn & 1 and fn != 0:
                fn, sn = fn >> 1, sn >> 1
        else:
            node = _node_hash(node, sibling)
        fn, sn = fn >> 1, sn >> 1
    return sn == 0 and node.hex() == root_hex
