"""Validation rules for transactions, blocks, votes and whole chains; each returns a ``Reason``."""

from zkpot.domain.validation.block import check_block, check_model_bytes
from zkpot.domain.validation.chain import verify_chain
from zkpot.domain.validation.quorum import attesters, check_certificate, check_votes, is_attested
from zkpot.domain.validation.tx import (
    ProofChecker,
    ProofClaims,
    RoundView,
    check_claim_shape,
    check_proof,
    check_tx,
    check_tx_envelope,
)

__all__ = [
    "ProofChecker",
    "ProofClaims",
    "RoundView",
    "attesters",
    "check_block",
    "check_certificate",
    "check_claim_shape",
    "check_model_bytes",
    "check_proof",
    "check_tx",
    "check_tx_envelope",
    "check_votes",
    "is_attested",
    "verify_chain",
]
