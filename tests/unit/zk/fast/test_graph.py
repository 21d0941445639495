"""The fast graph's count rule and masks, checked in numpy against argmax (first index on ties)."""

import numpy as np
import pytest
from zkpot.ml.data import Dataset
from zkpot.ml.model import Arch, init_weights
from zkpot.zk.fast.graph import count_from_logits, doubled_biases, graph_input, label_masks


def test_masks_mark_the_label_and_the_classes_before_it() -> None:
    onehot, before2 = label_masks(np.array([0, 3, 9]))
    assert onehot.dtype == before2.dtype == np.int64
    assert onehot.tolist()[1] == [0, 0, 0, 1, 0, 0, 0, 0, 0, 0]
    assert before2.tolist()[1] == [2, 2, 2, 0, 0, 0, 0, 0, 0, 0]
    assert before2[0].sum() == 0 and before2[2].sum() == 18


@pytest.mark.parametrize("seed", range(5))
def test_count_rule_equals_argmax_first_index_even_with_ties(seed: int) -> None:
    rng = np.random.default_rng(seed)
    logits = rng.integers(-3, 4, size=(400, 10))  # few values: many ties
    y = rng.integers(0, 10, size=400)
    assert count_from_logits(logits, y) == int(np.sum(np.argmax(logits, axis=1) == y))


def test_equal_logits_count_only_label_zero() -> None:
    """A model with all logits equal (e.g. zero weights) must not score: only label 0 wins the first-index tie."""
    y = np.arange(10)
    assert count_from_logits(np.zeros((10, 10)), y) == 1


def test_doubled_biases_double_only_the_layers_after_a_relu() -> None:
    arch = Arch()
    w = init_weights(arch, 3)
    g = doubled_biases(arch, w)
    assert np.array_equal(g["fc0.bias"], w["fc0.bias"])
    assert np.array_equal(g["fc1.bias"], 2 * w["fc1.bias"])
    assert np.array_equal(g["fc1.weight"], w["fc1.weight"])


def test_graph_input_flattens_features_then_masks() -> None:
    data = Dataset(np.full((2, 64), 0.5, dtype=np.float32), np.array([1, 2]))
    doc = graph_input(data)
    assert [len(t) for t in doc["input_data"]] == [128, 20, 20]
    assert doc["input_data"][1][:10] == [0, 1, 0, 0, 0, 0, 0, 0, 0, 0]
