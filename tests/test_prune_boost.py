"""Pruning masks, boosting's selection rules and training pattern reduction."""
import numpy as np
import pytest

import tinynet as tn
from tinynet import data, nn, optim, prune
from tinynet.boosting import BoostedEnsemble, boost, disagreement_study, second_net_indices, third_net_indices


def small_model():
    model = nn.Sequential(nn.Linear(3, 4), nn.ReLU(), nn.Linear(4, 2))
    model.load_state_dict({"0.weight": np.array([[0.05, -0.2, 0.5], [0.3, -0.01, 0.12], [-0.6, 0.09, 0.2],
                                                 [0.1, 0.4, -0.08]]),
                           "0.bias": np.full(4, 0.01), "2.weight": np.array([[0.15, -0.02, 0.7, 0.11],
                                                                             [-0.3, 0.06, 0.01, 0.9]]),
                           "2.bias": np.zeros(2)})
    return model


def test_threshold_pruning_selects_exactly_the_small_weights():
    model = small_model()
    report = prune.by_threshold(model, 0.1)
    np.testing.assert_array_equal(model[0].weight.numpy() != 0, [[0, 1, 1], [1, 0, 1], [1, 0, 1], [1, 1, 0]])
    np.testing.assert_array_equal(model[2].weight.numpy() != 0, [[1, 0, 1, 1], [1, 0, 0, 1]])
    np.testing.assert_array_equal(model[0].bias.numpy(), np.full(4, 0.01, dtype=np.float32))  # biases untouched
    assert report["layers"]["0.weight"]["zeros"] == 4 and report["total"] == {"zeros": 7, "total": 20, "sparsity": 0.35}
    assert "total" in prune.format_report(report)


def test_fraction_pruning_per_layer_and_global():
    model = small_model()
    prune.by_fraction(model, 0.25, scope="layer")  # 3 of 12 and 2 of 8 smallest
    assert (model[0].weight.numpy() == 0).sum() == 3 and (model[2].weight.numpy() == 0).sum() == 2
    np.testing.assert_array_equal(np.flatnonzero(model[2].weight.numpy() == 0), [1, 6])  # |-0.02|, |0.01|
    model = small_model()
    prune.by_fraction(model, 0.25, scope="global")  # the 5 smallest of all 20: 0.01, 0.01, 0.02, 0.05, 0.06
    assert (model[0].weight.numpy() == 0).sum() == 2 and (model[2].weight.numpy() == 0).sum() == 3


@pytest.mark.parametrize("make", [lambda p: optim.SGD(p, 0.1, momentum=0.9, weight_decay=0.01),
                                  lambda p: optim.SGD(p, 0.1, momentum=0.9, nesterov=True, weight_decay=0.01),
                                  lambda p: optim.RMSprop(p, 0.01, momentum=0.9, centered=True, weight_decay=0.01),
                                  lambda p: optim.Adam(p, 0.01, weight_decay=0.01)])
def test_masks_survive_every_optimizer_and_pruned_weights_get_no_update(make):
    model = small_model()
    prune.by_threshold(model, 0.1)
    pruned = [p.numpy() == 0 for _, p in prune.prunable(model)]
    before = [p.numpy() for _, p in prune.prunable(model)]
    optimizer = make(model.parameters())
    x = tn.tensor(np.random.default_rng(0).standard_normal((8, 3)), dtype=np.float32)
    for _ in range(10):
        optimizer.zero_grad()
        nn.CrossEntropyLoss()(model(x), np.arange(8) % 2).backward()
        optimizer.step()
    for (_, p), zero, old in zip(prune.prunable(model), pruned, before):
        assert (p.numpy()[zero] == 0).all()
        assert (p.numpy()[~zero] != old[~zero]).all()


@pytest.mark.parametrize("make", [lambda p: optim.SGD(p, 0.1, momentum=0.9),
                                  lambda p: optim.RMSprop(p, 0.01, momentum=0.9),
                                  lambda p: optim.Adam(p, 0.05)])
def test_pruning_in_the_middle_of_training_keeps_the_pruned_weights_at_zero(make):
    """Momentum and Adam's moments gathered before pruning would move the pruned weights on (they did)."""
    model = small_model()
    optimizer = make(model.parameters())
    x = tn.tensor(np.random.default_rng(0).standard_normal((8, 3)), dtype=np.float32)

    def train(steps):
        for _ in range(steps):
            optimizer.zero_grad()
            nn.CrossEntropyLoss()(model(x), np.arange(8) % 2).backward()
            optimizer.step()

    train(5)
    prune.by_fraction(model, 0.5)
    pruned = [p.numpy() == 0 for _, p in prune.prunable(model)]
    train(5)
    for (_, p), zero in zip(prune.prunable(model), pruned):
        assert zero.any() and (p.numpy()[zero] == 0).all()


def test_pruned_state_dict_reloads_with_masks_and_remove_makes_it_permanent(tmp_path):
    model = small_model()
    prune.by_threshold(model, 0.1)
    tn.save(model.state_dict(), tmp_path / "pruned.npz")
    fresh = small_model()
    fresh.load_state_dict(tn.load(tmp_path / "pruned.npz"))
    report = prune.restore_masks(fresh)
    assert report["total"]["zeros"] == 7
    np.testing.assert_array_equal(fresh[0].weight.mask, model[0].weight.mask)
    prune.remove(fresh)
    assert all(p.mask is None for p in fresh.parameters())
    assert prune.sparsity(fresh)["total"]["zeros"] == 7


def test_lstm_weights_are_prunable_by_default():
    names = [name for name, _ in prune.prunable(nn.Sequential(nn.LSTM(2, 3, 2), nn.BatchNorm1d(3)))]
    assert names == ["0.weight_ih_l0", "0.weight_hh_l0", "0.weight_ih_l1", "0.weight_hh_l1"]


def test_boosting_selection_rules_on_a_constructed_case():
    correct = np.array([True, True, True, True, False, True, False, True])  # 2 wrong, 6 right
    chosen = second_net_indices(correct, seed=3)
    assert len(chosen) == 4 and set(chosen) >= {4, 6} and correct[chosen].sum() == 2
    mostly_wrong = ~correct  # 6 wrong, 2 right: all right ones and as many wrong ones
    chosen = second_net_indices(mostly_wrong, seed=3)
    assert len(chosen) == 4 and set(chosen) >= {4, 6} and mostly_wrong[chosen].sum() == 2
    np.testing.assert_array_equal(third_net_indices([0, 1, 2, 3], [0, 2, 2, 1]), [1, 3])


class Fixed(nn.Module):
    """A 'network' whose output is fixed logits, to check how the ensemble combines them."""

    def __init__(self, logits):
        super().__init__()
        self.logits = np.asarray(logits, dtype=np.float64)

    def forward(self, x):
        return tn.tensor(self.logits)


def test_ensemble_predicts_argmax_of_summed_softmax():
    members = [Fixed([[4.0, 0.0, 0.0]]), Fixed([[0.0, 1.0, 0.0]]), Fixed([[0.0, 1.0, 0.0]])]
    total = BoostedEnsemble(members)(tn.tensor(np.zeros((1, 1))))
    softmax = lambda z: np.exp(z) / np.exp(z).sum()  # noqa: E731
    expected = softmax(np.array([4.0, 0, 0])) + 2 * softmax(np.array([0, 1.0, 0]))
    np.testing.assert_allclose(total.numpy()[0], expected)
    assert total.numpy().argmax() == expected.argmax() == 0  # one confident net outvotes two unsure ones


def test_boost_trains_three_nets_on_the_filtered_sets():
    dataset = data.ArrayDataset(np.arange(10, dtype=np.float32).reshape(10, 1), np.array([0, 1] * 5))
    trained_on = []
    predictions = iter([np.array([0, 1, 0, 1, 0, 0, 0, 0, 0, 0]),   # net 1: wrong on 5, 7, 9 -> 3 wrong
                        np.array([1, 1, 0, 1, 0, 1, 1, 1, 0, 0])])  # net 2: disagrees with net 1 on 0, 5, 6, 7
    ensemble, info = boost(lambda: nn.Linear(1, 2), lambda model, d: trained_on.append(sorted(d.inputs.ravel())),
                           lambda model, d: next(predictions), dataset, log=lambda message: None)
    assert len(ensemble.members) == 3 and trained_on[0] == list(range(10))
    assert len(trained_on[1]) == 6 and {5.0, 7.0, 9.0} <= set(trained_on[1])
    assert trained_on[2] == [0.0, 5.0, 6.0, 7.0] and info == {"net2_patterns": 6, "net3_patterns": 4}


def test_boost_filters_nets_2_and_3_from_the_pool_when_given():
    dataset = data.ArrayDataset(np.arange(4, dtype=np.float32).reshape(4, 1), np.array([0, 1, 0, 1]))
    pool = data.ArrayDataset(np.arange(10, 16, dtype=np.float32).reshape(6, 1), np.array([0, 1, 0, 1, 0, 1]))
    trained_on, predicted_on = [], []
    predictions = iter([np.array([0, 0, 0, 1, 1, 1]),   # net 1 on the pool: wrong on 11, 14 -> 2 wrong
                        np.array([0, 1, 0, 1, 1, 1])])  # net 2: disagrees with net 1 on 11 only

    def predict(model, d):
        predicted_on.append(len(d))
        return next(predictions)
    boost(lambda: nn.Linear(1, 2), lambda model, d: trained_on.append(sorted(d.inputs.ravel())), predict, dataset,
          log=lambda message: None, pool=pool)
    assert trained_on[0] == [0.0, 1.0, 2.0, 3.0] and predicted_on == [6, 6]  # net 1 on the dataset only
    assert len(trained_on[1]) == 4 and {11.0, 14.0} <= set(trained_on[1]) and set(trained_on[1]) <= set(range(10, 16))
    assert trained_on[2] == [11.0]


def test_disagreement_study_scores_each_net_where_nets_1_and_2_disagree():
    targets = np.array([0, 1, 2, 3, 4])
    net1, net2, net3 = np.array([0, 1, 2, 0, 0]), np.array([0, 1, 1, 3, 1]), np.array([9, 9, 2, 0, 4])
    study = disagreement_study([net1, net2, net3], targets)  # nets 1 and 2 disagree on patterns 2, 3, 4
    assert study["disagreement_share"] == 0.6
    np.testing.assert_allclose(study["accuracy_where_nets_1_2_disagree"], [1 / 3, 1 / 3, 2 / 3])


def test_pattern_reduction_by_loss_and_random_is_deterministic():
    dataset = data.ArrayDataset(np.arange(20).reshape(10, 2), np.arange(10))
    losses = np.array([0.1, 5.0, 0.3, 4.0, 0.2, 3.0, 0.0, 0.5, 2.0, 0.4])
    hardest = data.subset_by_loss(dataset, losses, 4)
    np.testing.assert_array_equal(hardest.targets, [1, 3, 5, 8])
    mixed = data.subset_by_loss(dataset, losses, 4, hard_fraction=0.5, seed=1)
    assert {1, 3} <= set(mixed.targets) and len(set(mixed.targets)) == 4
    np.testing.assert_array_equal(mixed.targets, data.subset_by_loss(dataset, losses, 4, 0.5, seed=1).targets)
    np.testing.assert_array_equal(data.subset(dataset, 5, seed=2).targets, data.subset(dataset, 5, seed=2).targets)
