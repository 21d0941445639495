"""The proof systems by name: what genesis' ``circuit.pipeline`` and the CLI's ``--pipeline`` choose from."""

from __future__ import annotations

import json
from collections.abc import Mapping
from pathlib import Path
from typing import Any

from zkpot.errors import InputError
from zkpot.zk.common import Progress, quiet
from zkpot.zk.fast.system import FastSystem
from zkpot.zk.plain.system import PlainSystem
from zkpot.zk.system import ProofSystem

SYSTEMS: dict[str, type[PlainSystem] | type[FastSystem]] = {"fast": FastSystem, "plain": PlainSystem}
PIPELINES = tuple(SYSTEMS)
DEFAULT_PIPELINE = "fast"
DEFAULT_SAMPLES = {name: cls.default_samples for name, cls in SYSTEMS.items()}


def system_class(pipeline: str) -> type[PlainSystem] | type[FastSystem]:
    try:
        return SYSTEMS[pipeline]
    except KeyError:
        raise InputError(f"pipeline must be one of {', '.join(PIPELINES)}, not {pipeline!r}") from None


def build(pipeline: str, samples: int | None = None, *, spec: Mapping[str, Any] | None = None,
          srs_file: Path | None = None, progress: Progress = quiet, task: str = "digits") -> ProofSystem:
    """Build (or take from the cache) ``pipeline``'s circuit over the first ``samples`` test samples of ``task``."""
    return system_class(pipeline).build(samples, spec=spec, srs_file=srs_file, progress=progress, task=task)


def load(root: Path) -> ProofSystem:
    """The proof system whose artifacts a setup wrote into ``root``."""
    try:
        manifest = json.loads((root / "manifest.json").read_text())
    except FileNotFoundError as e:
        raise InputError(f"no circuit at {root} (run `zkpot circuit setup`)") from e
    for cls in SYSTEMS.values():
        if cls.owns(manifest):
            return cls.load(root)
    raise InputError(f"{root} holds no circuit of a known proof system")


def from_genesis_circuit(circuit: Mapping[str, Any], *, srs_file: Path | None = None,
                         progress: Progress = quiet) -> ProofSystem:
    """Derive the proof system a genesis names (``circuit`` is genesis' ``circuit`` object)."""
    return build(str(circuit.get("pipeline", "plain")), spec=circuit["spec"], srs_file=srs_file, progress=progress)
