"""Proving in a separate process: keeps CPU-heavy, memory-hungry ezkl work off the caller's event loop and
lets the caller measure the prover's own peak memory."""

from __future__ import annotations

import multiprocessing
import resource
from collections.abc import Mapping
from concurrent.futures import ProcessPoolExecutor

import numpy as np

from zkpot.zk.circuit import Circuit
from zkpot.zk.prover import ProofResult, prove


def _prove_measured(circuit: Circuit, weights: Mapping[str, np.ndarray]) -> tuple[ProofResult, float]:
    result = prove(circuit, weights)
    return result, resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024.0


def proving_pool(workers: int = 1) -> ProcessPoolExecutor:
    """A pool of spawned worker processes (never forked from a process that holds threads or loops)."""
    return ProcessPoolExecutor(max_workers=workers, mp_context=multiprocessing.get_context("spawn"))


def prove_in_subprocess(circuit: Circuit, weights: Mapping[str, np.ndarray]) -> tuple[ProofResult, float]:
    """Prove in a fresh process; returns the result and that process's peak RSS in MB."""
    with proving_pool(1) as pool:
        return pool.submit(_prove_measured, circuit, dict(weights)).result()
