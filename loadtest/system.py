"""Which proof system a load test's pool is proved with: command-line options and loading."""

from __future__ import annotations

import argparse
from pathlib import Path

from zkpot.zk import registry
from zkpot.zk.system import ProofSystem


def add_system_args(p: argparse.ArgumentParser) -> None:
    p.add_argument("--pipeline", choices=registry.PIPELINES, default=registry.DEFAULT_PIPELINE)
    p.add_argument("--samples", type=int, help="test samples in the circuit (default: the pipeline's)")
    p.add_argument("--circuit", type=Path, help="a built circuit folder instead (its pipeline is its own)")


def load_system(folder: Path | None, pipeline: str, samples: int | None) -> ProofSystem:
    """The proof system of a circuit folder, else the one ``pipeline`` builds (cached after the first build)."""
    if folder is not None:
        return registry.load(folder)
    return registry.build(pipeline, samples)
