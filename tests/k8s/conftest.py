"""tests/k8s imports tools/k8s/*.py as `tools.k8s.*`: make sure the repository root is importable."""

import sys
from pathlib import Path

ROOT = str(Path(__file__).resolve().parents[2])
if ROOT not in sys.path:
    sys.path.insert(0, ROOT)
