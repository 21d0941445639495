"""The lever ladder of docs/performance.md: each rung one more change on the way from plain ezkl to the fast
circuit, proved over the same N samples with the same model (`zkpot bench levers`)."""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

from zkpot.bench.single import PLAIN, SingleConfig

_POLY = (("param_visibility", "polycommit"),)
_SCALES = (*_POLY, ("input_scale", 4), ("param_scale", 8), ("scale_rebase_multiplier", 1000))
_FIXED = (*_SCALES, ("input_visibility", "fixed"))
_NO_RC = (*_FIXED, ("ignore_range_check_inputs_outputs", True))

LADDER: tuple[SingleConfig, ...] = (
    PLAIN,
    SingleConfig("+ polycommit weights", run_args=_POLY, calibrate=True),
    SingleConfig("+ scales 4/8, no rescale", run_args=_SCALES),
    SingleConfig("+ test set as fixed inputs", run_args=_FIXED),
    SingleConfig("+ no range check of constant inputs", run_args=_NO_RC),
    SingleConfig("+ fast graph (abs-ReLU, margin count)", graph="fast", run_args=_NO_RC),
)

# Variations of the last rung: what did not win, and the MLP part alone (what the count costs on top).
VARIANTS: tuple[SingleConfig, ...] = (
    SingleConfig("fast graph's MLP alone (no count)", graph="mlp",
                 run_args=(*_NO_RC, ("output_visibility", "private"))),
    SingleConfig("fast, Freivalds off", graph="fast", run_args=(*_NO_RC, ("disable_freivalds", True))),
    SingleConfig("fast, num_inner_cols 1", graph="fast", run_args=(*_NO_RC, ("num_inner_cols", 1))),
    SingleConfig("fast, num_inner_cols 4", graph="fast", run_args=(*_NO_RC, ("num_inner_cols", 4))),
    SingleConfig("fast, selectors uncompressed", graph="fast", run_args=_NO_RC, compress_selectors=False),
    SingleConfig("fast, decomp 2^16 x 1 leg", graph="fast",
                 run_args=(*_NO_RC, ("decomp_base", 65536), ("decomp_legs", 1))),
)

ALL = {c.name: c for c in (*LADDER, *VARIANTS)}


def run_levers(names: list[str], samples: int, measure: Callable[[SingleConfig], dict[str, Any]]
               ) -> list[dict[str, Any]]:
    """One row per named configuration: its name, then the figures ``measure`` returns (or the error)."""
    rows = []
    for name in names:
        try:
            figures = measure(ALL[name])
        except Exception as e:  # noqa: BLE001 - a rung that ezkl refuses is a finding, not a crash
            figures = {"error": str(e).splitlines()[0][:200]}
        rows.append({"lever": name, "samples": samples, **figures})
    return rows
