"""Secure aggregation (SecAgg / SecAgg+): members mask their vectors so only the survivors' sum is revealed.

Pure protocol, no IO, deterministic given its randomness source; arithmetic in the BN254 scalar field so the sum
can be checked against KZG commitments. ``protocol`` describes the phases; ``unmask`` turns the public messages
into the sum.
"""

from zkpot.domain.secagg.errors import SecAggError
from zkpot.domain.secagg.field import R, lift, to_field
from zkpot.domain.secagg.graph import consistent_survivors, neighbours
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
from zkpot.domain.secagg.protocol import Member
from zkpot.domain.secagg.unmask import MaskedVector, Unmasked, unmask, unmask_report

__all__ = [
    "R", "EncryptedShare", "MaskKeys", "MaskedInput", "MaskedVector", "Member", "Reveal", "RevealedShare",
    "SecAggError", "ShareBundle", "Unmasked", "consistent_survivors", "decode_vector", "encode_vector", "lift",
    "neighbours", "to_field", "unmask", "unmask_report",
]
