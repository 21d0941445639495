"""What genesis pins of a circuit is reproducible: two nodes that build it apart, from empty caches and one SRS,
derive the same summary (settings, vk, SRS, test-set binding).

ezkl's compile is not byte-deterministic (docs/zk.md), so each build runs in its own process, as on two machines;
a hash that differs between the two is one no other node could reproduce.
"""

from __future__ import annotations

import json
import os
import subprocess
import sys
from pathlib import Path
from typing import Any

import pytest

pytestmark = pytest.mark.slow

BUILD = """
import json, sys
from pathlib import Path
from zkpot.zk import registry as system
s = system.build(sys.argv[1], int(sys.argv[2]), srs_file=Path(sys.argv[3]))
print(json.dumps(s.summary(), sort_keys=True))
"""


@pytest.fixture(scope="module")
def srs(tmp_path_factory: pytest.TempPathFactory) -> Path:
    import ezkl

    path = tmp_path_factory.mktemp("srs") / "k15.srs"
    ezkl.gen_srs(str(path), 15)  # both default circuits have 2^15 rows
    return path


def build_apart(pipeline: str, samples: int, srs: Path, cache: Path) -> dict[str, Any]:
    env = dict(os.environ, ZKPOT_CACHE=str(cache))
    done = subprocess.run([sys.executable, "-c", BUILD, pipeline, str(samples), str(srs)], env=env,
                          capture_output=True, text=True, timeout=900, check=False)
    assert done.returncode == 0, done.stderr[-2000:]
    summary: dict[str, Any] = json.loads(done.stdout.strip().splitlines()[-1])
    return summary


@pytest.mark.parametrize(("pipeline", "samples"), [("plain", 16), ("fast", 78)])
def test_two_separate_builds_pin_the_same_circuit(pipeline: str, samples: int, srs: Path, tmp_path: Path) -> None:
    first = build_apart(pipeline, samples, srs, tmp_path / "node-a")
    second = build_apart(pipeline, samples, srs, tmp_path / "node-b")
    assert first == second
    assert "vk_sha256" in json.dumps(first)  # the vk (one per chunk for fast) is what binds the circuit
