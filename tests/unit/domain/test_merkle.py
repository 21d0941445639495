import hashlib

import pytest
from zkpot.domain import merkle_proof, merkle_root, verify_merkle_proof


def leaves(n: int) -> list[str]:
    return [f"{i:02x}" * 32 for i in range(n)]


# Frozen vectors: a change here means every tx root on every chain changes.
ROOTS = {
    0: "e3b0c44298fc1c149afbf4c8996fb92427ae41e4649b934ca495991b7852b855",
    1: "7f9c9e31ac8256ca2f258583df262dbc7d6f68f2a03043d5c99a4ae5a7396ce9",
    2: "28fb81e496897e0ce886f08602392e9239b65c659041e5202163e58ad898f444",
    3: "ba8d94b7fbcecae7b81c4c80574fe24734a6917bf9c1ecd66ff3e0c34ead4620",
    5: "85e20cac1f02fda7bcdb2fc3f908568c57018c77815f1fa361acad13994f08bf",
}


@pytest.mark.parametrize("n", sorted(ROOTS))
def test_root_vectors(n: int) -> None:
    assert merkle_root(leaves(n)) == ROOTS[n]


def _h(data: bytes) -> bytes:
    return hashlib.sha256(data).digest()


def test_three_leaves_by_hand() -> None:
    """RFC 6962: the left subtree takes the largest power of two (2), the right the rest."""
    a, b, c = (bytes.fromhex(x) for x in leaves(3))
    la, lb, lc = _h(b"\x00" + a), _h(b"\x00" + b), _h(b"\x00" + c)
    expected = _h(b"\x01" + _h(b"\x01" + la + lb) + lc)
    assert merkle_root(leaves(3)) == expected.hex()


def test_order_matters() -> None:
    assert merkle_root(leaves(3)) != merkle_root(list(reversed(leaves(3))))


@pytest.mark.parametrize("n", range(1, 10))
def test_every_proof_verifies(n: int) -> None:
    tree = leaves(n)
    root = merkle_root(tree)
    for i, leaf in enumerate(tree):
        path = merkle_proof(tree, i)
        assert verify_merkle_proof(leaf, i, n, path, root)
        assert not verify_merkle_proof(leaf, (i + 1) % n, n, path, root) or n == 1
        assert not verify_merkle_proof("ff" * 32, i, n, path, root)


def test_tampered_or_malformed_proofs_fail() -> None:
    tree = leaves(5)
    root = merkle_root(tree)
    path = merkle_proof(tree, 2)
    assert not verify_merkle_proof(tree[2], 2, 5, [*path, "00" * 32], root)
    assert not verify_merkle_proof(tree[2], 2, 5, path[:-1], root)
    assert not verify_merkle_proof(tree[2], 2, 5, ["zz"], root)
    assert not verify_merkle_proof(tree[2], 5, 5, path, root)
    assert not verify_merkle_proof(tree[2], 2, 9, path, root)


def test_proof_index_out_of_range() -> None:
    with pytest.raises(IndexError):
        merkle_proof(leaves(2), 2)
