"""The proof-file and proof-bundle parsers return a document or raise ProofRejected, whatever bytes they get.

Inputs tried per run: 100 byte strings (random, deeply nested or holding a huge number) + 100 JSON documents
+ 100 mutations of a well-formed bundle = 300, each given to both parsers.
"""

from __future__ import annotations

import contextlib
import json
from typing import Any

from hypothesis import given, settings
from hypothesis import strategies as st
from zkpot.domain.errors import ProofRejected
from zkpot.zk.common import parse_proof
from zkpot.zk.fast.prove import BUNDLE_FORMAT, encode_bundle
from zkpot.zk.fast.verify import decode_bundle

from ..strategies import FUZZ, JSON, WILD_TEXT, flipped, mutated

COUNT = (7).to_bytes(32, "little").hex()
CHUNK = {"proof": [1, 2, 3], "instances": [[COUNT]], "hex_proof": "0x010203"}
BUNDLE = json.loads(encode_bundle([json.dumps(CHUNK).encode()] * 2))
PROOF_DOCS = st.fixed_dictionaries({}, optional={"proof": WILD_TEXT | st.lists(st.integers(-1, 256)),
                                                 "hex_proof": WILD_TEXT, "instances": WILD_TEXT})


def parses_or_rejects(data: bytes) -> None:
    for parse in (parse_proof, lambda d: decode_bundle(d, 2)):
        with contextlib.suppress(ProofRejected):
            parse(data)


def text(value: Any) -> bytes:
    return json.dumps(value).encode()


DEEP_OR_HUGE = st.integers(1, 20_000).flatmap(lambda n: st.sampled_from([b"[" * n, b'{"proof":' + b"9" * n + b"}"]))


@settings(FUZZ, max_examples=100)
@given(st.binary(max_size=512) | DEEP_OR_HUGE)
def test_random_bytes(data: bytes) -> None:
    parses_or_rejects(data)


@settings(FUZZ, max_examples=100)
@given(JSON | PROOF_DOCS | st.lists(PROOF_DOCS, max_size=3).map(lambda c: {"format": BUNDLE_FORMAT, "chunks": c}))
def test_json_documents(value: Any) -> None:
    parses_or_rejects(text(value))


@settings(FUZZ, max_examples=100)
@given(mutated(BUNDLE, WILD_TEXT).map(text) | flipped(text(BUNDLE)))
def test_mutated_bundles(data: bytes) -> None:
    parses_or_rejects(data)


def test_nesting_and_huge_numbers_are_rejected_not_raised() -> None:
    for data in (b"[" * 100_000, b'{"proof":' + b"9" * 5000 + b"}"):
        parses_or_rejects(data)
