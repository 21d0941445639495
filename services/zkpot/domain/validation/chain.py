"""Whole-chain audit from genesis: block rules, vote quorums and commitment freshness across rounds.

Model and proof bytes are not re-verified here (that needs IO); callers add those checks per block.
"""

from collections.abc import Mapping, Sequence

from zkpot.domain.messages import Attestation, Block, BlockHeader, Genesis, Vote
from zkpot.domain.reasons import Reason
from zkpot.domain.validation.block import check_block
from zkpot.domain.validation.quorum import check_votes


def verify_chain(
    genesis: Genesis,
    blocks: Sequence[Block],
    votes: Mapping[str, Sequence[Vote]],
    attestations: Mapping[str, Sequence[Attestation]],
) -> list[tuple[int, Reason]]:
    """(height, first failing rule) for every block that fails; an empty list means the chain is valid.

    ``blocks`` start at height 1; heights in the result are positions (1-based), so a block with a forged
    height is still reported where it sits. ``votes`` maps block hash -> votes, ``attestations`` tx id ->
    attestations. The walk goes on after a failure, so later blocks are reported against what they extend.
    """
    failures: list[tuple[int, Reason]] = []
    prev: BlockHeader | None = None
    used_commitments: set[str] = set()
    for height, block in enumerate(blocks, start=1):
        reason = _check_one(block, genesis, prev, votes, attestations, used_commitments)
        if reason is not Reason.OK:
            failures.append((height, reason))
        used_commitments.update(tx.commitment for tx in block.txs)
        prev = block.header
    return failures


def _check_one(
    block: Block,
    genesis: Genesis,
    prev: BlockHeader | None,
    votes: Mapping[str, Sequence[Vote]],
    attestations: Mapping[str, Sequence[Attestation]],
    used_commitments: set[str],
) -> Reason:
    reason = check_block(block, genesis, prev, attestations, None)
    if reason is Reason.OK and any(tx.commitment in used_commitments for tx in block.txs):
        reason = Reason.REUSED_COMMITMENT
    if reason is Reason.OK:
        reason = check_votes(block.hash, votes.get(block.hash, ()), genesis)
    return reason
