"""Where circuit artifacts live: a cache outside the repository, keyed by the content hash of what made them."""

from __future__ import annotations

import hashlib
import json
import os
from pathlib import Path
from typing import Any


def cache_root() -> Path:
    """`$ZKPOT_CACHE`, else `$XDG_CACHE_HOME/zkpot`, else `~/.cache/zkpot`."""
    env = os.environ.get("ZKPOT_CACHE")
    if env:
        return Path(env)
    xdg = os.environ.get("XDG_CACHE_HOME")
    return (Path(xdg) if xdg else Path.home() / ".cache") / "zkpot"


def file_sha256(path: Path) -> str:
    h = hashlib.sha256()
    with path.open("rb") as f:
        for block in iter(lambda: f.read(1 << 20), b""):
            h.update(block)
    return h.hexdigest()


def json_sha256(obj: Any) -> str:
    """Hash of a JSON document independent of key order (ezkl writes some maps in hash order)."""
    return hashlib.sha256(json.dumps(obj, sort_keys=True, separators=(",", ":")).encode()).hexdigest()


def write_json(path: Path, obj: Any) -> None:
    tmp = path.with_suffix(path.suffix + ".tmp")
    tmp.write_text(json.dumps(obj, indent=2, sort_keys=True) + "\n")
    os.replace(tmp, path)


VOLATILE_SETTINGS = ("timestamp",)  # ezkl's gen_settings stamps the time it ran: the same circuit, another hash


def settings_sha256(settings: dict[str, Any]) -> str:
    """Hash of ezkl settings without the fields that differ between two runs of the same ``gen_settings``."""
    return json_sha256({k: v for k, v in settings.items() if k not in VOLATILE_SETTINGS})
