"""The federated model: a small MLP, its weights as named numpy arrays, local training and float accuracy.

Weights travel as a dict {"fc0.weight": (out, in), "fc0.bias": (out,), ...}, saved as .npz. The float forward
pass here is numpy (float64) so any party can recompute a public model's accuracy without torch.

A model file comes from peers, so reading one allocates nothing it does not expect: the file's size, the zip's
member names and declared sizes, and each .npy header (dtype, shape, order) are checked against the architecture
before any array data is read; a tiny file that declares a huge shape is refused, not allocated.
"""

from __future__ import annotations

import io
import zipfile
from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import IO

import numpy as np
from numpy.lib import format as npy

from zkpot.errors import InputError
from zkpot.ml import tasks
from zkpot.ml.data import N_CLASSES, N_FEATURES, Dataset

Weights = dict[str, np.ndarray]

DTYPE = np.dtype("<f4")
MAX_NPY_HEADER = 4096  # np.save writes 128 bytes for these shapes
ZIP_OVERHEAD = 4096 + 2 * 100  # the end record, and per member its local and central headers (30 + 46 + the name)


@dataclass(frozen=True)
class Arch:
    """An MLP architecture: layer widths from input to output, ReLU between layers."""

    layers: tuple[int, ...] = (N_FEATURES, 32, N_CLASSES)

    @property
    def name(self) -> str:
        return "mlp-" + "-".join(str(n) for n in self.layers)

    def param_names(self) -> list[str]:
        return [f"fc{i}.{p}" for i in range(len(self.layers) - 1) for p in ("weight", "bias")]

    def shapes(self) -> dict[str, tuple[int, ...]]:
        out: dict[str, tuple[int, ...]] = {}
        for i, (a, b) in enumerate(zip(self.layers[:-1], self.layers[1:], strict=True)):
            out[f"fc{i}.weight"] = (b, a)
            out[f"fc{i}.bias"] = (b,)
        return out

    def n_params(self) -> int:
        return sum(int(np.prod(s)) for s in self.shapes().values())

    def to_dict(self) -> dict[str, object]:
        return {"name": "mlp", "layers": list(self.layers)}

    @classmethod
    def parse(cls, text: str, task: str = tasks.DEFAULT_TASK) -> Arch:
        """'mlp-64-32-10' or '64-32-10' → Arch; the ends must be the task's inputs (64, MNIST 784) and 10 classes."""
        t = tasks.get(task)
        body = text.removeprefix("mlp-")
        try:
            layers = tuple(int(p) for p in body.split("-"))
        except ValueError as e:
            raise InputError(f"unknown architecture {text!r}: expected e.g. mlp-{t.n_features}-32-10") from e
        if len(layers) < 2 or layers[0] != t.n_features or layers[-1] != t.n_classes or min(layers) < 1:
            raise InputError(f"architecture {text!r} must start at {t.n_features} and end at {t.n_classes} for "
                             f"the {t.name} task")
        return cls(layers)

    @classmethod
    def default(cls, task: str = tasks.DEFAULT_TASK) -> Arch:
        """The task's default MLP (digits 64-32-10; MNIST the prototype's 784-128-10)."""
        return cls(tasks.get(task).default_layers)


def init_weights(arch: Arch, seed: int) -> Weights:
    """Kaiming-uniform-like init from a numpy generator, reproducible on every machine."""
    rng = np.random.default_rng(seed)
    w: Weights = {}
    for name, shape in arch.shapes().items():
        fan_in = shape[-1] if name.endswith("weight") else arch.shapes()[name.replace("bias", "weight")][1]
        bound = 1.0 / np.sqrt(fan_in)
        w[name] = rng.uniform(-bound, bound, size=shape).astype(np.float32)
    return w


def check_weights(arch: Arch, weights: Mapping[str, np.ndarray]) -> Weights:
    """Validate names, shapes and finiteness; returns float32 copies."""
    expected = arch.shapes()
    if set(weights) != set(expected):
        raise InputError(f"model does not fit {arch.name}: has {sorted(weights)}, expected {sorted(expected)}")
    out: Weights = {}
    for name, shape in expected.items():
        a = np.asarray(weights[name], dtype=np.float32)
        if a.shape != shape:
            raise InputError(f"model does not fit {arch.name}: {name} has shape {a.shape}, expected {shape}")
        if not np.all(np.isfinite(a)):
            raise InputError(f"model weight {name} holds NaN or infinity")
        out[name] = a
    return out


def logits(arch: Arch, weights: Mapping[str, np.ndarray], X: np.ndarray) -> np.ndarray:
    h = X.astype(np.float64)
    n_layers = len(arch.layers) - 1
    for i in range(n_layers):
        h = h @ weights[f"fc{i}.weight"].astype(np.float64).T + weights[f"fc{i}.bias"].astype(np.float64)
        if i < n_layers - 1:
            h = np.maximum(h, 0.0)
    return h


def count_correct(arch: Arch, weights: Mapping[str, np.ndarray], data: Dataset) -> int:
    """How many samples the float model classifies correctly (argmax, first index on ties)."""
    return int(np.sum(np.argmax(logits(arch, weights, data.X), axis=1) == data.y))


def train(
    arch: Arch,
    start: Mapping[str, np.ndarray],
    data: Dataset,
    *,
    epochs: int = 30,
    lr: float = 0.05,
    batch_size: int = 32,
    seed: int = 0,
) -> Weights:
    """Local SGD (momentum 0.9) from the given global weights on the member's private data."""
    import torch

    torch.manual_seed(seed)
    net = to_torch(arch, start)
    opt = torch.optim.SGD(net.parameters(), lr=lr, momentum=0.9)
    X = torch.from_numpy(np.ascontiguousarray(data.X, dtype=np.float32))
    y = torch.from_numpy(data.y.astype(np.int64))
    gen = torch.Generator().manual_seed(seed)
    loss_fn = torch.nn.CrossEntropyLoss()
    net.train()
    for _ in range(epochs):
        order = torch.randperm(len(y), generator=gen)
        for i in range(0, len(y), batch_size):
            idx = order[i : i + batch_size]
            opt.zero_grad()
            loss_fn(net(X[idx]), y[idx]).backward()
            opt.step()
    return from_torch(arch, net)


def to_torch(arch: Arch, weights: Mapping[str, np.ndarray]):  # -> torch.nn.Sequential
    import torch

    mods: list[torch.nn.Module] = []
    n_layers = len(arch.layers) - 1
    for i, (a, b) in enumerate(zip(arch.layers[:-1], arch.layers[1:], strict=True)):
        lin = torch.nn.Linear(a, b)
        with torch.no_grad():
            lin.weight.copy_(torch.from_numpy(np.asarray(weights[f"fc{i}.weight"], dtype=np.float32)))
            lin.bias.copy_(torch.from_numpy(np.asarray(weights[f"fc{i}.bias"], dtype=np.float32)))
        mods.append(lin)
        if i < n_layers - 1:
            mods.append(torch.nn.ReLU())
    return torch.nn.Sequential(*mods)


def from_torch(arch: Arch, net) -> Weights:  # noqa: ANN001 - torch.nn.Sequential
    linears = [m for m in net if hasattr(m, "weight")]
    out: Weights = {}
    for i, lin in enumerate(linears):
        out[f"fc{i}.weight"] = lin.weight.detach().numpy().astype(np.float32).copy()
        out[f"fc{i}.bias"] = lin.bias.detach().numpy().astype(np.float32).copy()
    return check_weights(arch, out)


def weights_to_bytes(weights: Mapping[str, np.ndarray]) -> bytes:
    """Deterministic .npz bytes (sorted names, fixed zip timestamps) so equal weights give equal hashes."""
    buf = io.BytesIO()
    with zipfile.ZipFile(buf, "w", compression=zipfile.ZIP_STORED) as zf:
        for name in sorted(weights):
            arr = io.BytesIO()
            np.save(arr, np.ascontiguousarray(weights[name], dtype="<f4"), allow_pickle=False)
            info = zipfile.ZipInfo(f"{name}.npy", date_time=(1980, 1, 1, 0, 0, 0))
            zf.writestr(info, arr.getvalue())
    return buf.getvalue()


def max_model_bytes(arch: Arch) -> int:
    """The largest .npz of ``arch`` accepted: float32 data and .npy headers, plus the zip's own records."""
    return DTYPE.itemsize * arch.n_params() + len(arch.shapes()) * (MAX_NPY_HEADER + ZIP_OVERHEAD) + ZIP_OVERHEAD


def weights_from_bytes(arch: Arch, data: bytes) -> Weights:
    """The weights in an .npz of ``arch``; InputError for anything else, checked before any array is allocated."""
    limit = max_model_bytes(arch)
    if len(data) > limit:
        raise InputError(f"model file of {len(data)} bytes exceeds the {limit} of {arch.name}")
    try:
        with zipfile.ZipFile(io.BytesIO(data)) as zf:
            raw = {name: _read_array(arch, zf, info) for name, info in _members(arch, zf).items()}
    except InputError:
        raise
    except Exception as e:  # zipfile and numpy raise many types on corrupt bytes; all mean the same here
        raise InputError(f"not a model file (.npz of named weight arrays): {type(e).__name__}: {e}") from e
    return check_weights(arch, raw)


def _members(arch: Arch, zf: zipfile.ZipFile) -> dict[str, zipfile.ZipInfo]:
    """Weight name -> zip member: exactly one ``<name>.npy`` per weight of ``arch``, each of a plausible size."""
    infos = zf.infolist()
    names = [info.filename.removesuffix(".npy") for info in infos]
    expected = arch.shapes()
    if sorted(names) != sorted(expected) or not all(i.filename.endswith(".npy") for i in infos):
        raise InputError(f"model does not fit {arch.name}: has {sorted(names)[:8]}, expected {sorted(expected)}")
    for name, info in zip(names, infos, strict=True):
        limit = DTYPE.itemsize * int(np.prod(expected[name])) + MAX_NPY_HEADER
        if info.file_size > limit:
            raise InputError(f"model file member {info.filename} declares {info.file_size} bytes, at most {limit}")
    return dict(zip(names, infos, strict=True))


def _read_array(arch: Arch, zf: zipfile.ZipFile, info: zipfile.ZipInfo) -> np.ndarray:
    """One weight: its .npy header must be little-endian float32 of the arch's shape, then exactly that data."""
    name = info.filename.removesuffix(".npy")
    shape = arch.shapes()[name]
    with zf.open(info) as f:
        header_shape, fortran, dtype = _read_header(f)
        if dtype != DTYPE or header_shape != shape:
            raise InputError(f"model does not fit {arch.name}: {name} is {dtype} {header_shape}, expected "
                             f"float32 {shape}")
        nbytes = DTYPE.itemsize * int(np.prod(shape))
        body = f.read(nbytes + 1)
    if len(body) != nbytes:
        raise InputError(f"model weight {name} holds {len(body)} bytes of data, expected {nbytes}")
    return np.frombuffer(body, dtype=DTYPE).reshape(shape, order="F" if fortran else "C").copy()


def _read_header(f: IO[bytes]) -> tuple[tuple[int, ...], bool, np.dtype]:
    version = npy.read_magic(f)
    if version == (1, 0):
        return npy.read_array_header_1_0(f, max_header_size=MAX_NPY_HEADER)
    if version == (2, 0):
        return npy.read_array_header_2_0(f, max_header_size=MAX_NPY_HEADER)
    raise InputError(f"unsupported .npy format version {version}")


def save_weights(path: Path, weights: Mapping[str, np.ndarray]) -> None:
    path.write_bytes(weights_to_bytes(weights))


def load_weights(arch: Arch, path: Path) -> Weights:
    try:
        size = path.stat().st_size
        if size > max_model_bytes(arch):  # before reading a file that may be huge
            raise InputError(f"model file {path} of {size} bytes is too large for {arch.name}")
        data = path.read_bytes()
    except FileNotFoundError as e:
        raise InputError(f"no such model file: {path}") from e
    except IsADirectoryError as e:
        raise InputError(f"{path} is a directory, not a model file") from e
    return weights_from_bytes(arch, data)


def mean_accuracy(counts: Sequence[int], n: int) -> float:
    return sum(counts) / (len(counts) * n) if counts else 0.0
