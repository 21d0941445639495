"""The comparison's rows behave as defined: PoFL's global model is the best-evaluated member's, centralized
training learns, the lying leader wrecks plain FedAvg in its rounds and changes nothing for the defended chain,
and the model-in-block chain outweighs the ledger by at least the models."""

from __future__ import annotations

import pytest
from zkpot.experiment import costs, dp, federated
from zkpot.experiment.centralized import centralized
from zkpot.experiment.config import ExperimentConfig, tiny
from zkpot.experiment.federation import build
from zkpot.ml import tasks
from zkpot.ml.model import weights_to_bytes

CONFIG = tiny()


@pytest.fixture(scope="module")
def fed():  # noqa: ANN201
    return build(CONFIG, "digits", "iid")


def test_pofl_global_model_is_the_best_evaluated_members(fed) -> None:  # noqa: ANN001
    members = dp.DPMembers(fed, 1.0, 1.0)
    shadow = dp.DPMembers(fed, 1.0, 1.0)  # the same members, to see the models PoFL chose among
    winner, best = dp.pofl_step(fed, members, fed.start, 1)
    local = shadow.round(fed.start, 1)
    counts = [fed.correct(w) for w in local]
    assert counts[best] == max(counts)
    assert weights_to_bytes(winner) == weights_to_bytes(local[best])


def test_centralized_training_learns(fed) -> None:  # noqa: ANN001
    curve = centralized(fed, 2)
    assert len(curve["accuracy"]) == len(curve["full"]) == 2
    assert curve["full"][-1] > 0.5


def test_lying_leader_plain_vs_defended(fed) -> None:  # noqa: ANN001
    rounds, floor = 4, CONFIG.floor("digits")
    honest = federated.zkpot(fed, rounds, floor)
    defended = federated.zkpot(fed, rounds, floor, lie_every=2)
    plain = federated.zkpot(fed, rounds, floor, lie_every=2, defended=False)
    assert defended["accuracy"] == honest["accuracy"] and defended["full"] == honest["full"]
    assert defended["refused_rounds"] == plain["lie_rounds"] == [2, 4]
    for r in plain["lie_rounds"]:
        assert plain["full"][r - 1] < 0.3  # about chance (0.1) on the 540-image split
        assert honest["full"][r - 1] > 0.5
    assert plain["accuracy"][0] == honest["accuracy"][0]  # before the first lie the two agree


def test_model_in_block_chain_outweighs_the_ledger_by_the_models(fed) -> None:  # noqa: ANN001
    models = [fed.start] * len(fed.shards)
    c = costs.round_bytes(models, [len(s) for s in fed.shards], fed.start, validators=4, samples=78,
                          proof_bytes=None)
    model_bytes = sum(len(weights_to_bytes(w)) for w in models) + len(weights_to_bytes(fed.start))
    assert c["model_in_block_bytes"] - c["ledger_bytes"] >= model_bytes
    assert c["ipfs_bytes"] >= model_bytes and not c["proofs_included"]
    with_proofs = costs.round_bytes(models, [len(s) for s in fed.shards], fed.start, validators=4, samples=78,
                                    proof_bytes=1000)
    assert with_proofs["ipfs_bytes"] == c["ipfs_bytes"] + 1000 * len(models)


def test_mnist_federation_wiring() -> None:
    config = ExperimentConfig(tasks=("mnist",), partitions=("dirichlet",), clients=3, rounds=1)
    fed = build(config, "mnist", "dirichlet")
    assert fed.arch.layers == tasks.get("mnist").default_layers == (784, 128, 10)
    assert len(fed.public) == 100 and len(fed.full) == 1000 and len(fed.pool) == 4000
    assert sum(len(s) for s in fed.shards) == 4000 and fed.shards[0].X.shape[1] == 784
