"""The ZKPoT rules with no IO: canonical encoding, keys, messages, validation, leader rule, aggregation.

Nothing here imports NATS, SQL, HTTP or ezkl; services reach those through adapters.
"""

from zkpot.domain.aggregation import AGGREGATION_RULES, aggregation_weights, fedavg
from zkpot.domain.encoding import canonical, digest, is_hex, sha256_hex
from zkpot.domain.errors import (
    AggregationError,
    Disposition,
    EncodingError,
    InvalidKey,
    MalformedMessage,
    ProofRejected,
    SealError,
    ZkpotError,
)
from zkpot.domain.keys import BoxKeyPair, SigningKey, verify_signature
from zkpot.domain.leader import select_leader
from zkpot.domain.merkle import merkle_proof, merkle_root, verify_merkle_proof
from zkpot.domain.messages import (
    Attestation,
    Block,
    BlockHeader,
    Genesis,
    RejectedTx,
    Transaction,
    Vote,
    bft_quorum,
)
from zkpot.domain.reasons import DESCRIPTIONS, Reason
from zkpot.domain.sealing import open_sealed, seal
from zkpot.domain.validation import (
    ProofChecker,
    ProofClaims,
    RoundView,
    check_block,
    check_model_bytes,
    check_tx,
    check_votes,
    verify_chain,
)

__all__ = [
    "AGGREGATION_RULES",
    "DESCRIPTIONS",
    "AggregationError",
    "Attestation",
    "Block",
    "BlockHeader",
    "BoxKeyPair",
    "Disposition",
    "EncodingError",
    "Genesis",
    "InvalidKey",
    "MalformedMessage",
    "ProofChecker",
    "ProofClaims",
    "ProofRejected",
    "Reason",
    "RejectedTx",
    "RoundView",
    "SealError",
    "SigningKey",
    "Transaction",
    "Vote",
    "ZkpotError",
    "aggregation_weights",
    "bft_quorum",
    "canonical",
    "check_block",
    "check_model_bytes",
    "check_tx",
    "check_votes",
    "digest",
    "fedavg",
    "is_hex",
    "merkle_proof",
    "merkle_root",
    "open_sealed",
    "seal",
    "select_leader",
    "sha256_hex",
    "verify_chain",
    "verify_merkle_proof",
    "verify_signature",
]
