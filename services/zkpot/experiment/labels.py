"""Row keys, the labels the table and the plots give them, and the prototype's logged numbers.

A row whose proofs are replaced by their verified outcome says so in its label. The prototype's numbers are the
paper's log (MNIST, 200 rounds, 20 clients, 784-128-10, the first 100 test images): they are shown in their own
column and are never measured here.
"""

from __future__ import annotations

REPLACED = "proofs replaced by their outcome: the quantized model's count, computed as the circuit computes it"

# the paper prototype's final accuracies on MNIST, by row key (not measured here)
PROTOTYPE_MNIST: dict[str, float] = {
    "zkpot": 0.980, "fl_dp_0.5": 0.928, "fl_dp_1.0": 0.915, "fl_dp_1.5": 0.905, "pofl_1.0": 0.953, "pofl_1.5": 0.943,
}


def ordinal(k: int) -> str:
    """'every 3rd round', not 'every 3th': 1st, 2nd, 3rd, 4th, ..., 11th, 12th, 13th, 21st."""
    suffix = "th" if 10 <= k % 100 <= 20 else {1: "st", 2: "nd", 3: "rd"}.get(k % 10, "th")
    return f"{k}{suffix}"


def dp_key(noise: float) -> str:
    return f"fl_dp_{float(noise)}"


def pofl_key(noise: float) -> str:
    return dp_key(noise).replace("fl_dp_", "pofl_")


def long(key: str, lie_every: int = 0) -> str:
    """The table's label of row ``key``."""
    if key == "zkpot":
        return f"ZKPoT ({REPLACED})"
    if key == "centralized":
        return "Centralized (all training data in one place, same total epochs; not federated)"
    if key.startswith("fl_dp_"):
        return f"FL + DP-SGD, noise multiplier {key.removeprefix('fl_dp_')} (no proofs)"
    if key.startswith("pofl_"):
        return (f"PoFL-style, members' DP noise {key.removeprefix('pofl_')} (validators evaluate every model in "
                "the clear; the best one becomes the global model)")
    if key == "byz_defended":
        return (f"Byzantine leader every {ordinal(lie_every)} round, this network's defences ({REPLACED}; the "
                "aggregate re-checked, the lie refused, the next proposer's block taken)")
    if key == "byz_plain":
        return f"Byzantine leader every {ordinal(lie_every)} round, plain FedAvg (the lie accepted; no proofs)"
    if key == "network":
        return "ZKPoT on the network, real proofs"
    raise KeyError(key)


def short(key: str) -> str:
    """The plots' legend entry of row ``key``."""
    if key == "zkpot":
        return "ZKPoT (proofs replaced by their outcome)"
    if key == "centralized":
        return "centralized"
    if key.startswith("fl_dp_"):
        return f"FL + DP-SGD σ={key.removeprefix('fl_dp_')}"
    if key.startswith("pofl_"):
        return f"PoFL, DP σ={key.removeprefix('pofl_')}"
    if key == "byz_defended":
        return "lying leader, defended (outcome, not proofs)"
    if key == "byz_plain":
        return "lying leader, plain FedAvg"
    return key
