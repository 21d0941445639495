"""`zkpot bench prove`: the performance baseline of the plain circuit — train, set up, prove in a fresh process,
verify; the figures as one dict."""

from __future__ import annotations

import time
from typing import Any

from zkpot.domain.errors import ProofRejected
from zkpot.ml import data as zdata
from zkpot.ml import model as zmodel
from zkpot.zk.common import Progress, quiet
from zkpot.zk.plain import build as pbuild
from zkpot.zk.plain.spec import CircuitSpec
from zkpot.zk.plain.system import PlainSystem
from zkpot.zk.plain.verify import ProofVerifier
from zkpot.zk.system import prove_in_subprocess


def bench_prove(spec: CircuitSpec, *, clients: int = 4, epochs: int = 30, progress: Progress = quiet
                ) -> dict[str, Any]:
    """Figures of one proof of a freshly trained client model; setup figures come from when the keys were derived."""
    progress(f"training a client model ({spec.arch.name})")
    weights = zmodel.train(spec.arch, zmodel.init_weights(spec.arch, 1), zdata.client_shard(0, clients),
                           epochs=epochs)
    progress(f"setting up the circuit for {spec.samples} samples ({spec.commitment})")
    c = pbuild.build(spec, progress=progress)
    progress("proving in a worker process")
    result = prove_in_subprocess(PlainSystem(c), weights)
    progress("verifying")
    t = time.perf_counter()
    try:
        ProofVerifier(c).check(result.proof)
        verified = True
    except ProofRejected:
        verified = False
    verify_s = time.perf_counter() - t
    return {
        "samples": spec.samples,
        "commitment": spec.commitment,
        "correct": result.correct,
        "float_correct": zmodel.count_correct(spec.arch, weights, zdata.public_test_set(spec.samples)),
        "logrows": c.logrows,
        "setup_s": c.manifest["timings"]["setup_s"],
        "pk_mb": round(c.manifest["pk_bytes"] / 1e6, 1),
        "witness_s": result.timings["witness_s"],
        "prove_s": result.timings["prove_s"],
        "verify_s": round(verify_s, 3),
        "peak_rss_mb": result.timings["peak_rss_mb"],
        "proof_bytes": len(result.proof),
        "verified": verified,
    }
