"""checkov finds no failed check in the rendered manifests (every values set) and the Dockerfile; each skip is
an annotation on its resource that gives a reason."""

from __future__ import annotations

import json
import shutil
import subprocess

import pytest

from .chart import CHECKOV, ROOT, VALUE_SETS, ensure_tools, rendered

pytestmark = pytest.mark.integration


def test_checkov_passes(tmp_path) -> None:
    ensure_tools()
    for name in VALUE_SETS:
        (tmp_path / f"{name}.yaml").write_text(rendered(name)[0])
    shutil.copy(ROOT / "Dockerfile", tmp_path / "Dockerfile")
    result = subprocess.run(
        [str(CHECKOV), "--directory", str(tmp_path), "--framework", "kubernetes", "dockerfile", "--output", "json",
         "--skip-download"], capture_output=True, text=True)
    reports = json.loads(result.stdout)
    reports = reports if isinstance(reports, list) else [reports]
    assert {r["check_type"] for r in reports} == {"kubernetes", "dockerfile"}
    assert [r["summary"]["parsing_errors"] for r in reports] == [0, 0]
    failed = [f"{c['check_id']} {c['resource']}" for r in reports for c in r["results"]["failed_checks"]]
    assert failed == []
    skips = [c for r in reports for c in r["results"]["skipped_checks"]]
    assert all(len(c["check_result"].get("suppress_comment", "")) > 20 for c in skips)
    assert result.returncode == 0
