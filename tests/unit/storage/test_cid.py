"""compute_cid pinned to CIDs captured from a real node (js-ipfs 0.66.1, ``ipfs add --cid-version=1 --raw-leaves
--chunker=size-262144``), and the parsing rules that make a CID safe to use."""

from __future__ import annotations

import hashlib

import pytest
from zkpot.storage.cid import (
    CHUNK_SIZE,
    CODEC_DAG_PB,
    CODEC_RAW,
    MAX_LINKS,
    check_blob,
    chunk_dag,
    cid_for_block,
    compute_cid,
    encode_cid,
    normalize_cid,
    parse_cid,
)
from zkpot.storage.errors import CidMismatch, InvalidCid


def pattern(size: int) -> bytes:
    """Deterministic test bytes; the period 251 (prime) makes every chunk of a large blob differ."""
    return (bytes(range(251)) * (size // 251 + 1))[:size]


# (size of pattern(size), the CID js-ipfs 0.66.1 printed for it)
VECTORS = [
    (0, "bafkreihdwdcefgh4dqkjv67uzcmw7ojee6xedzdetojuzjevtenxquvyku"),
    (1, "bafkreidogqfzz75tpkmjzjke425xqcrmpcib2p5tg44hnbirumdbpl5adu"),
    (1000, "bafkreicojquuwmy7piqjti3zx3buxh47ya64i2vumxmzr5gwqpnfgsd6nu"),
    (CHUNK_SIZE, "bafkreibruh455iawsviqslif5c7uurdcfdemh22mtnytyzvnzn75kpejxy"),
    (CHUNK_SIZE + 1, "bafybeiexg2oqkfnj56l7fcmawswqbijt5shq4b5rg6a546uwpkqqzwjioi"),
    (3 * 1024 * 1024, "bafybeidci4gr2nydwtknrbh5u4piscvvpwbwzy6cog5ihoupkl4bsbbcni"),
    (MAX_LINKS * CHUNK_SIZE, "bafybeihpe5snhzneq7xs53nivmsopto5lrogo3wjynauqylqeym5a3irbm"),  # one full node
    (MAX_LINKS * CHUNK_SIZE + 1, "bafybeib4y7ghw2rq7bracc4xwtxrbzo7cfvagdpte2tmrkgwl6dyard3cm"),  # depth 2
]
EMPTY_CID_BASE58 = "zb2rhmy65F3REf8SZp7De11gxtECBGgUKaLdiDj7MCGCHxbDW"  # js-ipfs's own base58btc form of ""


@pytest.mark.parametrize(("size", "cid"), VECTORS, ids=[str(size) for size, _ in VECTORS])
def test_compute_cid_matches_the_node(size: int, cid: str) -> None:
    assert compute_cid(pattern(size)) == cid


def test_a_single_chunk_is_one_raw_block() -> None:
    data = pattern(CHUNK_SIZE)
    assert compute_cid(data) == encode_cid(cid_for_block(CODEC_RAW, data))


def test_chunk_dag_yields_every_block_under_its_own_cid() -> None:
    root, blocks = chunk_dag(pattern(2 * CHUNK_SIZE + 5))
    assert root == compute_cid(pattern(2 * CHUNK_SIZE + 5))
    assert len(blocks) == 4  # three raw leaves and the dag-pb root
    leaves = {cid for cid, block in blocks.items() if cid == encode_cid(cid_for_block(CODEC_RAW, block))}
    assert len(leaves) == 3
    assert blocks[root] and root == encode_cid(cid_for_block(CODEC_DAG_PB, blocks[root]))


def test_other_text_forms_normalize_to_base32() -> None:
    cid = VECTORS[0][1]
    assert normalize_cid(EMPTY_CID_BASE58) == cid
    assert normalize_cid(cid.upper()) == cid
    assert parse_cid(cid) == parse_cid(EMPTY_CID_BASE58)


@pytest.mark.parametrize(
    "text",
    [
        "",
        "b",
        "QmbWqxBEKC3P8tqsKc98xmWNzrzDtRLMiMPL8wBuTGsMnR",  # CIDv0
        "bafyreigbtj4x7ip5legnfznufuopl4sg4knzc2cof6duas4b3q2fy6swua",  # dag-cbor
        "bafkreihdwdcefgh4dqkjv67uzcmw7ojee6xedzdetojuzjevtenxquvy",  # digest cut short
        "bafkreihdwdcefgh4dqkjv67uzcmw7ojee6xedzdetojuzjevtenxquvyku/../../etc/passwd",
        "../../etc/passwd",
        "z0OIl",  # not base58
        "bafkrei!hdwdcefgh4dqkjv67uzcmw7ojee6xedzdetojuzjevtenxquvyku",
    ],
)
def test_parse_cid_rejects_what_the_system_does_not_produce(text: str) -> None:
    with pytest.raises(InvalidCid):
        parse_cid(text)


def test_parse_cid_rejects_a_non_sha256_multihash() -> None:
    blake3 = bytes([1, CODEC_RAW, 0x1E, 32]) + hashlib.sha256(b"x").digest()
    with pytest.raises(InvalidCid, match="sha2-256"):
        parse_cid(encode_cid(blake3))


def test_check_blob_accepts_the_bytes_of_the_cid_in_any_form() -> None:
    assert check_blob(EMPTY_CID_BASE58, b"") == VECTORS[0][1]


def test_check_blob_names_both_cids_on_a_mismatch() -> None:
    with pytest.raises(CidMismatch) as caught:
        check_blob(VECTORS[2][1], pattern(999) + b"\xff")
    assert caught.value.expected == VECTORS[2][1]
    assert caught.value.actual == compute_cid(pattern(999) + b"\xff")
