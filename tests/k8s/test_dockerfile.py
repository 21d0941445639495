"""The image's Dockerfile: multi-stage, CPU torch, non-root, nothing to build with in the final stage, and a
.dockerignore that lets in exactly what it copies."""

from __future__ import annotations

import re

from .chart import ROOT


def stages() -> list[list[str]]:
    lines = (ROOT / "Dockerfile").read_text().replace("\\\n", " ").splitlines()
    out: list[list[str]] = []
    for line in (ln.strip() for ln in lines):
        if line.startswith("FROM "):
            out.append([])
        if out and line and not line.startswith("#"):
            out[-1].append(line)
    return out


def test_multi_stage_with_a_clean_non_root_runtime() -> None:
    build, runtime = stages()
    assert "build-essential" in " ".join(build)
    assert not any(re.search(r"apt-get install|gcc|build-essential|pip install", ln) for ln in runtime)
    [user] = [ln for ln in runtime if ln.startswith("USER ")]
    assert user.split()[1].split(":")[0] not in ("0", "root")
    assert any(ln.startswith("COPY --from=build ") for ln in runtime)
    assert 'ENTRYPOINT ["zkpot"]' in runtime


def test_torch_comes_from_the_cpu_index_at_the_locked_version() -> None:
    build = " ".join(stages()[0])
    lock = (ROOT / "requirements.lock").read_text()
    [torch] = re.findall(r"^torch==(\S+)$", lock, re.MULTILINE)
    assert f"--index-url https://download.pytorch.org/whl/cpu torch=={torch}" in build


def test_dockerignore_admits_what_the_build_copies() -> None:
    admitted = {ln[1:].rstrip("/") for ln in (ROOT / ".dockerignore").read_text().splitlines() if ln.startswith("!")}
    copied = {src.rstrip("/") for ln in stages()[0] if ln.startswith("COPY ") and "--from" not in ln
              for src in ln.split()[1:-1]}
    assert copied == admitted


def test_the_image_installs_no_dev_dependency() -> None:
    """Every dev extra of pyproject.toml is filtered out of the lock the image installs (a new test tool would
    otherwise ship in the image)."""
    import tomllib

    dev = tomllib.loads((ROOT / "pyproject.toml").read_text())["project"]["optional-dependencies"]["dev"]
    [line] = [ln for ln in stages()[0] if "runtime.lock" in ln and "grep" in ln]
    pattern = re.search(r"'\^\(([^)]*)\)==", line)
    assert pattern is not None, line
    assert {d.split("==")[0].lower() for d in dev} <= set(pattern.group(1).lower().split("|"))
