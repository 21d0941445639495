import dataclasses
from typing import Any

import pytest
from zkpot.domain import (
    Attestation,
    Block,
    BlockHeader,
    Genesis,
    InvalidKey,
    MalformedMessage,
    Reason,
    RejectedTx,
    SigningKey,
    Transaction,
    Vote,
    bft_quorum,
    canonical,
    merkle_root,
)

from .builders import CLIENTS, GENESIS, PRODUCER, VALIDATORS, build_chain, make_tx

KEY = SigningKey.from_seed(bytes(range(32)))
PUB = KEY.public_hex
TX = Transaction(
    round=1,
    parent="00" * 32,
    client=PUB,
    commitment="0x1234abcd",
    correct=87,
    samples=100,
    proof_cid="bafkreiproof",
    proof_sha256="11" * 32,
    model_cid="bafkreimodel",
    model_sha256="22" * 32,
    n_train=600,
    timestamp_ms=1_700_000_000_000,
)

# Frozen vectors: a change to any of these breaks every stored tx id, signature and block hash.
TX_PAYLOAD = (
    '{"client":"03a107bff3ce10be1d70dd18e74bc09967e4d6309ba50d5f1ddc8664125531b8","commitment":"0x1234abcd",'
    '"correct":87,"model_cid":"bafkreimodel",'
    '"model_sha256":"2222222222222222222222222222222222222222222222222222222222222222","n_train":600,'
    '"parent":"0000000000000000000000000000000000000000000000000000000000000000","proof_cid":"bafkreiproof",'
    '"proof_sha256":"1111111111111111111111111111111111111111111111111111111111111111","round":1,'
    '"samples":100,"timestamp_ms":1700000000000,"v":1}'
)
TX_ID = "fa4dbcfd5aed6f72ae977b1c386b4e4927517e9b39dd1cea1e30cf1731e9d69e"
TX_SIGNATURE = (
    "5c1c8cfb7924a616c1a9dd64b4131d77409d19d54a41c5080156668ca8b0b693"
    "dd6d7d63d03fbde463fae84f1af871bf6d49a8eb53b404bf420b81ad660cc40b"
)
HEADER_HASH = "32f20dabcc925c6e956372521876a6cd0db5b2d0faa897185a22b4bd67b4e26f"


def vector_header() -> BlockHeader:
    return BlockHeader(
        height=1,
        round=1,
        prev_hash="33" * 32,
        timestamp_ms=1_700_000_100_000,
        producer=PUB,
        leader_client=PUB,
        leader_tx=TX_ID,
        leader_correct=87,
        samples=100,
        tx_root=merkle_root([TX_ID]),
        accepted=1,
        rejected=0,
        model_cid="bafkreiglobal",
        model_sha256="44" * 32,
        model_commitment="0xbeef",
        global_correct=85,
        global_samples=100,
        aggregation="fedavg",
        genesis_hash="55" * 32,
    )


def test_transaction_vectors() -> None:
    assert TX.signing_payload() == TX_PAYLOAD.encode()
    assert TX.tx_id == TX_ID
    signed = TX.sign(KEY)
    assert signed.signature == TX_SIGNATURE
    assert signed.tx_id == TX_ID  # the id does not depend on the signature
    assert signed.signature_valid()
    assert not TX.signature_valid()


def test_block_header_hash_vector() -> None:
    assert vector_header().block_hash == HEADER_HASH


def test_signed_dict_has_signature_and_version() -> None:
    d = TX.sign(KEY).to_dict()
    assert d["signature"] == TX_SIGNATURE and d["v"] == 1


def test_sign_returns_a_copy() -> None:
    signed = TX.sign(KEY)
    assert signed is not TX and TX.signature == ""


def test_sign_with_a_key_that_is_not_the_signer() -> None:
    with pytest.raises(InvalidKey):
        TX.sign(SigningKey.from_seed(bytes(32)))


def test_any_field_change_breaks_the_signature() -> None:
    signed = TX.sign(KEY)
    assert not dataclasses.replace(signed, correct=88).signature_valid()
    assert not dataclasses.replace(signed, v=2).signature_valid()
    assert dataclasses.replace(signed, correct=88).tx_id != TX_ID


def test_attestation_and_vote_sign() -> None:
    validator = VALIDATORS[0]
    att = Attestation(TX_ID, 1, validator.public_hex, True, Reason.OK).sign(validator)
    assert att.signature_valid()
    assert att.attestation_id == Attestation(TX_ID, 1, validator.public_hex, True, "ok").attestation_id
    assert not dataclasses.replace(att, valid=False).signature_valid()
    vote = Vote(HEADER_HASH, 1, validator.public_hex, True, Reason.OK).sign(validator)
    assert vote.signature_valid() and len(vote.vote_id) == 64
    assert not dataclasses.replace(vote, accept=False).signature_valid()


def sample_messages() -> list[Any]:
    chain = build_chain(1)
    block = chain.blocks[0]
    tx = block.txs[0]
    return [
        TX.sign(KEY),
        chain.attestations[tx.tx_id][0],
        chain.votes[block.hash][0],
        block.header,
        block.rejected[0],
        block,
        GENESIS,
    ]


@pytest.mark.parametrize("message", sample_messages(), ids=lambda m: type(m).__name__)
def test_round_trip(message: Any) -> None:
    d = message.to_dict()
    canonical(d)  # JSON-ready
    again = type(message).from_dict(d)
    assert again == message
    assert again.to_dict() == d


@pytest.mark.parametrize("message", sample_messages(), ids=lambda m: type(m).__name__)
def test_unknown_keys_are_ignored(message: Any) -> None:
    d = {**message.to_dict(), "added_in_v2": {"x": 1}, "v": 1}
    assert type(message).from_dict(d) == message


@pytest.mark.parametrize("message", sample_messages(), ids=lambda m: type(m).__name__)
def test_every_required_key_is_required(message: Any) -> None:
    defaults = {f.name for f in dataclasses.fields(message) if f.default is not dataclasses.MISSING}
    optional = ({"v", "signature"} if not isinstance(message, Block) else {"v"}) | defaults
    for name in message.to_dict():
        if name in optional:
            continue
        d = message.to_dict()
        del d[name]
        with pytest.raises(MalformedMessage, match=name):
            type(message).from_dict(d)


def test_defaults_fill_missing_signature_and_version() -> None:
    d = TX.to_dict()
    del d["signature"], d["v"]
    assert Transaction.from_dict(d) == TX


BAD_TX_FIELDS = [
    ("round", True),  # bool is not int
    ("round", "1"),
    ("round", 1.0),
    ("round", None),
    ("round", -1),
    ("correct", False),
    ("commitment", 1234),
    ("commitment", None),
    ("client", PUB.upper()),  # hex must be lower-case
    ("client", "xyz"),
    ("parent", "0"),  # odd length
    ("signature", b"\x00"),
    ("v", "1"),
]


@pytest.mark.parametrize(("field", "value"), BAD_TX_FIELDS)
def test_wrong_types_are_malformed(field: str, value: object) -> None:
    with pytest.raises(MalformedMessage, match=field):
        Transaction.from_dict({**TX.to_dict(), field: value})


@pytest.mark.parametrize("payload", [None, [], "tx", 5])
def test_non_object_is_malformed(payload: Any) -> None:
    with pytest.raises(MalformedMessage):
        Transaction.from_dict(payload)


def test_bool_fields_refuse_ints() -> None:
    d = Attestation(TX_ID, 1, PUB, True, "ok").to_dict()
    with pytest.raises(MalformedMessage, match="valid"):
        Attestation.from_dict({**d, "valid": 1})
    d = Vote(HEADER_HASH, 1, PUB, True, "ok").to_dict()
    with pytest.raises(MalformedMessage, match="accept"):
        Vote.from_dict({**d, "accept": "true"})


@pytest.mark.parametrize(
    ("field", "value"),
    [
        ("validators", "ab" * 32),  # a string is not a list
        ("validators", [1, 2]),
        ("clients", ["AB" * 32]),
        ("arch", [1, 2]),
        ("arch", {"scale": 0.5}),  # floats never enter a hashed object
        ("circuit", {1: "x"}),
        ("circuit", None),
        ("quorum", True),
    ],
)
def test_genesis_malformed(field: str, value: object) -> None:
    with pytest.raises(MalformedMessage, match=field):
        Genesis.from_dict({**GENESIS.to_dict(), field: value})


def test_block_nested_malformed() -> None:
    d = build_chain(1).blocks[0].to_dict()
    with pytest.raises(MalformedMessage, match="header"):
        Block.from_dict({**d, "header": "nope"})
    with pytest.raises(MalformedMessage, match="correct"):
        Block.from_dict({**d, "txs": [{**d["txs"][0], "correct": "9"}]})
    with pytest.raises(MalformedMessage, match="txs"):
        Block.from_dict({**d, "txs": {"0": d["txs"][0]}})
    with pytest.raises(MalformedMessage, match="RejectedTx"):
        Block.from_dict({**d, "rejected": [{"tx_id": "00"}]})


def test_genesis_hash_covers_everything_and_dicts_are_copied() -> None:
    d = GENESIS.to_dict()
    d["arch"]["layers"].append(5)
    assert GENESIS.arch["layers"] == [64, 32, 10]
    assert dataclasses.replace(GENESIS, quorum=4).genesis_hash != GENESIS.genesis_hash
    assert Genesis.from_dict(GENESIS.to_dict()).genesis_hash == GENESIS.genesis_hash


def test_block_create_sorts_and_signs() -> None:
    txs = [make_tx(c, 1, GENESIS.genesis_hash, 70) for c in CLIENTS]
    rejected = [RejectedTx("ff" * 32, PUB, "bad_signature"), RejectedTx("00" * 32, PUB, "wrong_round")]
    header = vector_header()
    block = Block.create(header, txs, rejected, PRODUCER)
    assert [tx.tx_id for tx in block.txs] == sorted(tx.tx_id for tx in txs)
    assert [r.tx_id for r in block.rejected] == ["00" * 32, "ff" * 32]
    assert block.hash == HEADER_HASH
    assert not block.signature_valid()  # the header names KEY as producer, not PRODUCER
    block = Block.create(dataclasses.replace(header, producer=PRODUCER.public_hex), txs, rejected, PRODUCER)
    assert block.signature_valid()
    assert not dataclasses.replace(block, signature="00" * 64).signature_valid()


@pytest.mark.parametrize(
    ("n", "quorum"), [(1, 1), (2, 2), (3, 2), (4, 3), (5, 4), (6, 4), (7, 5), (8, 6), (9, 6), (10, 7)]
)
def test_bft_quorum(n: int, quorum: int) -> None:
    assert bft_quorum(n) == quorum


@pytest.mark.parametrize("n", range(1, 40))
def test_bft_quorums_intersect_in_an_honest_validator_and_stay_live(n: int) -> None:
    f = (n - 1) // 3
    q = bft_quorum(n)
    assert 2 * q - n >= f + 1  # two quorums share more validators than can be faulty
    assert q <= n - f  # the honest validators alone can form a quorum
    if n == 3 * f + 1:
        assert q == 2 * f + 1


def test_bft_quorum_needs_a_validator() -> None:
    with pytest.raises(ValueError):
        bft_quorum(0)
