"""FastCircuitSpec: chunking, run args, serialization and the range the circuit can hold."""

import numpy as np
import pytest
from zkpot.errors import InputError
from zkpot.ml.data import Dataset
from zkpot.ml.model import Arch, init_weights
from zkpot.zk.fast.spec import FastCircuitSpec, check_in_range, range_bounds


def test_chunks_cover_the_samples_in_order_with_sizes_differing_by_at_most_one() -> None:
    bounds = FastCircuitSpec(samples=540, chunks=8).chunk_bounds()
    assert bounds[0] == (0, 68) and bounds[-1] == (473, 540)
    assert all(a[1] == b[0] for a, b in zip(bounds, bounds[1:], strict=False))
    assert {b - a for a, b in bounds} == {67, 68}
    assert FastCircuitSpec(samples=540, chunks=4).chunk_bounds() == [(0, 135), (135, 270), (270, 405), (405, 540)]


@pytest.mark.parametrize("kwargs", [{"samples": 0}, {"samples": 541}, {"chunks": 0}, {"samples": 4, "chunks": 5},
                                    {"logrows": 9}, {"decomp_base": 1000}, {"decomp_legs": 0}])
def test_bad_specs_are_refused(kwargs: dict[str, int]) -> None:
    with pytest.raises(InputError):
        FastCircuitSpec(**kwargs)


def test_spec_round_trips_and_its_key_depends_on_every_field_and_the_srs() -> None:
    spec = FastCircuitSpec(samples=64, chunks=2, logrows=14)
    assert FastCircuitSpec.from_dict(spec.to_dict()) == spec
    assert spec.key("a") != spec.key("b")
    assert spec.key("a") != FastCircuitSpec(samples=64, chunks=2, logrows=15).key("a")


def test_from_dict_refuses_garbage() -> None:
    with pytest.raises(InputError):
        FastCircuitSpec.from_dict({"samples": "many"})


def test_run_args_fix_the_inputs_and_commit_the_weights() -> None:
    args = FastCircuitSpec().run_args()
    assert (args["input_visibility"], args["param_visibility"], args["output_visibility"]) == \
        ("fixed", "polycommit", "public")
    assert args["ignore_range_check_inputs_outputs"] is True


def test_range_bounds_follow_the_scales() -> None:
    hidden, gap = range_bounds(FastCircuitSpec())  # 2^28 at scales 4 + 8 (hidden) and 4 + 16 + 1 (doubled logits)
    assert (hidden, gap) == (2.0**16, 2.0**7)
    assert range_bounds(FastCircuitSpec(param_scale=9))[1] == 2.0**5


def _data(n: int = 20) -> Dataset:
    rng = np.random.default_rng(0)
    return Dataset(rng.integers(0, 17, size=(n, 64)).astype(np.float32) / 16, rng.integers(0, 10, size=n))


def test_an_ordinary_model_is_in_range() -> None:
    check_in_range(FastCircuitSpec(), init_weights(Arch(), 0), _data())


def test_a_model_with_huge_logit_gaps_is_refused_with_the_reason() -> None:
    w = init_weights(Arch(), 0)
    w["fc1.weight"] = w["fc1.weight"] * 1000
    with pytest.raises(InputError, match="logit gap"):
        check_in_range(FastCircuitSpec(), w, _data())


def test_a_model_with_absurd_weights_is_refused() -> None:
    w = init_weights(Arch(), 0)
    w["fc0.bias"][0] = 1e9
    with pytest.raises(InputError, match="weight magnitude"):
        check_in_range(FastCircuitSpec(), w, _data())
