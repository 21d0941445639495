"""The verification bench on real pooled proofs: every proof checked in every pass, by warm workers."""

import pytest
from zkpot.zk import circuit as zcircuit

from loadtest import poolgen
from loadtest.verifybench import measure

pytestmark = pytest.mark.slow


def test_two_workers_check_every_proof_each_pass() -> None:
    circuit = zcircuit.build(zcircuit.CircuitSpec())
    proofs = [e.proof for e in poolgen.ensure(circuit, 3)]
    result = measure(circuit, proofs, workers=2, repeat=2)
    assert (result["workers"], result["proofs"], result["passes"]) == (2, 3, 2)
    assert result["check_s"]["n"] == result["check_cpu_s"]["n"] == 6
    assert result["proofs_per_s"] > 0 and len(result["passes_per_s"]) == 2
    assert result["check_cpu_s"]["p50"] > 0
