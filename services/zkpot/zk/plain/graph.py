"""The plain accuracy graph: the MLP and an argmax count, exported to ONNX for ezkl."""

from __future__ import annotations

from collections.abc import Mapping
from pathlib import Path

import numpy as np

from zkpot.ml.model import Arch, to_torch


def export_accuracy_onnx(arch: Arch, weights: Mapping[str, np.ndarray], samples: int, path: Path) -> None:
    """ONNX graph (X[N x 64] float, y[N] int64) -> number of samples whose argmax equals the label.

    int64 labels keep scale 0 in ezkl, so the equality and the count are exact.
    """
    import torch

    net = to_torch(arch, weights).eval()

    class Accuracy(torch.nn.Module):
        def __init__(self) -> None:
            super().__init__()
            self.net = net

        def forward(self, x, y):  # noqa: ANN001, ANN202
            return (self.net(x).argmax(dim=1) == y).sum()

    x = torch.zeros(samples, arch.layers[0])
    y = torch.zeros(samples, dtype=torch.int64)
    torch.onnx.export(
        Accuracy(), (x, y), str(path), input_names=["x", "y"], output_names=["correct"],
        opset_version=17, dynamo=False,
    )
