"""The verification bench on real pooled proofs: every proof checked in every pass, by warm workers."""

import pytest
from zkpot.zk import registry

from loadtest import poolgen
from loadtest.verifybench import measure

pytestmark = pytest.mark.slow


@pytest.mark.parametrize("pipeline", registry.PIPELINES)
def test_two_workers_check_every_proof_each_pass(pipeline: str) -> None:
    system = registry.build(pipeline)
    proofs = [e.proof for e in poolgen.ensure(system, 3)]
    result = measure(system, proofs, workers=2, repeat=2)
    assert (result["workers"], result["proofs"], result["passes"]) == (2, 3, 2)
    assert result["check_s"]["n"] == result["check_cpu_s"]["n"] == 6
    assert result["proofs_per_s"] > 0 and len(result["passes_per_s"]) == 2
    assert result["check_cpu_s"]["p50"] > 0
