import re

from zkpot.domain import DESCRIPTIONS, Reason
from zkpot.domain.errors import Disposition, MalformedMessage, ProofRejected, ZkpotError


def test_every_reason_has_a_one_line_description() -> None:
    assert set(DESCRIPTIONS) == set(Reason)
    assert all(text and "\n" not in text for text in DESCRIPTIONS.values())


def test_values_are_snake_case_names() -> None:
    for reason in Reason:
        assert re.fullmatch(r"[a-z]+(_[a-z]+)*", reason.value)
        assert reason.value == reason.name.lower()


def test_wire_values_are_stable() -> None:
    assert Reason.OK == "ok"
    assert Reason.MODEL_COMMITMENT_MISMATCH == "model_commitment_mismatch"
    assert Reason("tx_not_attested") is Reason.TX_NOT_ATTESTED


def test_errors_share_a_root_and_carry_a_disposition() -> None:
    rejected = ProofRejected(Reason.PROOF_INVALID, "bad pairing")
    assert isinstance(rejected, ZkpotError)
    assert rejected.reason is Reason.PROOF_INVALID
    assert str(rejected) == "proof_invalid: bad pairing"
    assert ProofRejected().reason is Reason.PROOF_INVALID
    assert MalformedMessage.disposition is Disposition.DROP
    assert ZkpotError.disposition is Disposition.FAIL
    assert issubclass(MalformedMessage, ValueError)
