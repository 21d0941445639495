"""The fast accuracy graph: the same MLP and the same count as `zkpot.zk.plain.graph.export_accuracy_onnx`, laid out so
ezkl spends fewer rows on it.

Three changes, each exact:

- ReLU as ``h + |h|`` (= 2 relu(h)): one sign decomposition and one product instead of a decomposition, an
  equality test and a product. Each hidden layer therefore carries twice the true activation, so the bias of the
  layer after it is doubled at export; the logits come out as ``2**(layers-1)`` times the true logits, which
  leaves every comparison between them unchanged.
- No argmax: the labels are fixed inputs, given as a one-hot mask and a "before" mask (2 where a class index is
  below the label). Sample i counts iff its label logit beats every earlier class strictly and every later class
  or equals it, i.e. iff argmax (first index on ties) equals the label. With s = sign(L_y - L_j) the violation
  ``s^2 - s + before - before * s^2`` is 0 exactly when the pair is in order and 2 otherwise; a sample counts iff
  its violations sum to 0. This drops ezkl's sort-based argmax (dynamic lookups and shuffles).
- Integer masks and an integer zero keep the count at scale 0, so it is an exact integer.
"""

from __future__ import annotations

from collections.abc import Mapping
from pathlib import Path
from typing import Any

import numpy as np

from zkpot.ml.data import N_CLASSES, Dataset
from zkpot.ml.model import Arch, check_weights

INPUT_NAMES = ("x", "onehot", "before2")


def label_masks(y: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    """(one-hot of the labels, 2 * [class index < label]) as int64 arrays of shape (n, classes)."""
    labels = np.asarray(y, dtype=np.int64)
    classes = np.arange(N_CLASSES)[None, :]
    onehot = (classes == labels[:, None]).astype(np.int64)
    before2 = 2 * (classes < labels[:, None]).astype(np.int64)
    return onehot, before2


def count_from_logits(logits: np.ndarray, y: np.ndarray) -> int:
    """The graph's count rule on given logits, in numpy: what the circuit computes on its quantized logits."""
    onehot, before2 = label_masks(y)
    chosen = np.sum(logits * onehot, axis=1, keepdims=True)
    s = np.sign(chosen - logits)
    violations = np.sum(s * s - s + before2 - before2 * s * s, axis=1)
    return int(np.sum(violations == 0))


def graph_input(data: Dataset) -> dict[str, Any]:
    """The ezkl input document of a chunk: features, then the two label masks, each flattened."""
    onehot, before2 = label_masks(data.y)
    return {"input_data": [data.X.flatten().tolist(), onehot.flatten().tolist(), before2.flatten().tolist()]}


def doubled_biases(arch: Arch, weights: Mapping[str, np.ndarray]) -> dict[str, np.ndarray]:
    """Weights as the graph holds them: the bias of layer i times 2**i (see the module docstring)."""
    out = dict(check_weights(arch, weights))
    for i in range(1, len(arch.layers) - 1):
        out[f"fc{i}.bias"] = out[f"fc{i}.bias"] * np.float32(2**i)
    return out


def export(arch: Arch, weights: Mapping[str, np.ndarray], samples: int, path: Path, *, count: bool = True) -> None:
    """Write the fast accuracy graph for ``samples`` samples to ``path`` (ONNX, opset 17).

    ``count=False`` writes the MLP part alone (x -> doubled logits), to measure what the count costs.
    """
    import torch

    masks = (torch.zeros(samples, N_CLASSES, dtype=torch.int64),) * 2 if count else ()
    torch.onnx.export(
        _module(arch, doubled_biases(arch, weights), count), (torch.zeros(samples, arch.layers[0]), *masks),
        str(path), input_names=list(INPUT_NAMES if count else INPUT_NAMES[:1]),
        output_names=["correct" if count else "logits"], opset_version=17, dynamo=False,
    )


def _module(arch: Arch, graph_weights: Mapping[str, np.ndarray], count: bool):  # -> torch.nn.Module
    import torch

    def param(name: str) -> torch.nn.Parameter:
        return torch.nn.Parameter(torch.from_numpy(np.ascontiguousarray(graph_weights[name])), requires_grad=False)

    class FastAccuracy(torch.nn.Module):
        def __init__(self) -> None:
            super().__init__()
            self.w = torch.nn.ParameterList([param(f"fc{i}.weight") for i in range(len(arch.layers) - 1)])
            self.b = torch.nn.ParameterList([param(f"fc{i}.bias") for i in range(len(arch.layers) - 1)])

        def forward(self, x, onehot=None, before2=None):  # noqa: ANN001, ANN202
            h = x
            for i, (w, b) in enumerate(zip(self.w, self.b, strict=True)):
                h = torch.nn.functional.linear(h, w, b)
                if i < len(self.w) - 1:
                    h = h + torch.abs(h)
            if not count:
                return h
            chosen = (h * onehot).sum(dim=1, keepdim=True)
            s = torch.sign(chosen - h)
            ss = s * s
            violations = (ss - s + before2 - before2 * ss).sum(dim=1)
            return (violations.to(torch.int64) == 0).sum()

    return FastAccuracy().eval()
