import dataclasses

import pytest
from zkpot.domain import limits as lim
from zkpot.domain.encoding import canonical
from zkpot.domain.errors import MalformedMessage
from zkpot.domain.secagg.field import R
from zkpot.domain.secagg.messages import (
    EncryptedShare,
    MaskedInput,
    MaskKeys,
    Reveal,
    RevealedShare,
    ShareBundle,
    decode_vector,
    encode_vector,
)

from .rounds import run, signing_keys

KEY = signing_keys(1)[0]
H = "ab" * 32
SHARE = "11" * lim.SHARE_BYTES
SEALED = "22" * lim.SEALED_SHARE_BYTES


def test_the_messages_of_a_round_round_trip_and_verify() -> None:
    r, _ = run(3, 4, degree=2, threshold=2)
    messages = [*r.keys.values(), *r.bundles.values(), *(m.message for m in r.masked.values()), *r.reveals]
    for message in messages:
        again = type(message).from_dict(message.to_dict())
        assert again == message and again.signature_valid()
    forged = dataclasses.replace(r.reveals[0], seeds=r.reveals[0].seeds[1:])
    assert not forged.signature_valid()


@pytest.mark.parametrize(("cls", "fields"), [
    (MaskKeys, {"enc_pk": H + "00"}),
    (MaskKeys, {"seed_commitment": "AB" * 32}),
    (MaskKeys, {"round": lim.MAX_ROUND + 1}),
    (ShareBundle, {"shares": [{"recipient": H, "ciphertext": SEALED + "00"}]}),
    (ShareBundle, {"shares": [{"recipient": f"{i:064x}", "ciphertext": SEALED} for i in range(lim.MAX_CLIENTS + 1)]}),
    (ShareBundle, {"shares": [{"recipient": H, "ciphertext": SEALED}] * 2}),
    (MaskedInput, {"vector_cid": "c" * 129}),
    (MaskedInput, {"neighbours": [f"{i:064x}" for i in range(lim.MAX_CLIENTS + 1)]}),
    (MaskedInput, {"neighbours": [KEY.public_hex]}),
    (Reveal, {"seeds": [{"owner": H, "share": SHARE[:-2]}]}),
    (Reveal, {"seeds": [{"owner": H, "share": SHARE}], "keys": [{"owner": H, "share": SHARE}]}),
])
def test_oversized_or_contradictory_fields_are_malformed(cls: type, fields: dict[str, object]) -> None:
    base = {"round": 1, "client": KEY.public_hex, "enc_pk": H, "mask_pk": H, "seed_commitment": H, "shares": [],
            "tx_id": H, "vector_sha256": H, "vector_cid": "cid", "neighbours": [], "seeds": [], "keys": []}
    cls.from_dict(base)
    with pytest.raises(MalformedMessage):
        cls.from_dict({**base, **fields})


def test_the_largest_bundle_and_reveal_fit_one_bus_message() -> None:
    members = [f"{i:064x}" for i in range(lim.MAX_CLIENTS)]
    bundle = ShareBundle(round=lim.MAX_ROUND, client=KEY.public_hex, signature="cd" * 64,
                         shares=tuple(EncryptedShare(m, SEALED) for m in members))
    reveal = Reveal(round=lim.MAX_ROUND, client=KEY.public_hex, signature="cd" * 64,
                    seeds=tuple(RevealedShare(m, SHARE) for m in members[:128]),
                    keys=tuple(RevealedShare(m, SHARE) for m in members[128:]))
    for message in (bundle, reveal):
        assert len(canonical(message.to_dict())) < lim.MAX_MESSAGE_BYTES // 4
        type(message).from_dict(message.to_dict())


def test_a_vector_round_trips_through_its_blob() -> None:
    vector = [0, 1, R - 1, 2**200]
    blob = encode_vector(vector)
    assert len(blob) == 32 * len(vector) and decode_vector(blob, len(vector)) == vector


def test_a_bad_blob_is_malformed() -> None:
    blob = encode_vector([1, 2])
    for bad, length in ((blob, 3), (blob[:-1], 2), (blob + R.to_bytes(32, "big"), 3), (blob, -1),
                        (blob, lim.MAX_VECTOR_LENGTH + 1)):
        with pytest.raises(MalformedMessage):
            decode_vector(bad, length)
    with pytest.raises(ValueError):
        encode_vector([R])
