"""The leader rule: the round's leader is the transaction with the highest proven accuracy."""

from collections.abc import Sequence

from zkpot.domain.messages import Transaction


def select_leader(txs: Sequence[Transaction]) -> Transaction | None:
    """Highest ``correct`` wins; a tie goes to the lowest tx id (hex string order); None for no txs."""
    if not txs:
        return None
    return min(txs, key=lambda tx: (-tx.correct, tx.tx_id))
