"""Boosting by filtering (Schapire, 1990; Drucker et al.), as paper 003 applies it to LeNet-5:

  net 1 trains on all patterns;
  net 2 trains on a filtered set, half patterns net 1 classifies correctly and half it gets wrong;
  net 3 trains on the patterns where nets 1 and 2 disagree;
  the ensemble adds the three nets' softmax outputs and predicts the argmax.

Rule for net 2's set (the paper gives only the 50/50 mix): all of net 1's wrong patterns and as
many right ones, drawn at random; if net 1 got more wrong than right, all right ones and as many
wrong ones. So the set is as large as the smaller side permits, and exactly half and half.
"""
from __future__ import annotations

import numpy as np

from . import functional as F
from . import nn


def second_net_indices(correct, seed=0) -> np.ndarray:
    """Indices for net 2: equally many patterns net 1 got right and wrong (``correct`` is bool per pattern)."""
    rng = np.random.default_rng(seed)
    right, wrong = np.flatnonzero(correct), np.flatnonzero(~correct)
    count = min(len(right), len(wrong))
    chosen = np.concatenate([rng.choice(right, count, replace=False), rng.choice(wrong, count, replace=False)])
    return rng.permutation(chosen)


def third_net_indices(predictions_1, predictions_2) -> np.ndarray:
    """Indices for net 3: the patterns on which nets 1 and 2 disagree."""
    return np.flatnonzero(np.asarray(predictions_1) != np.asarray(predictions_2))


def disagreement_study(predictions, targets) -> dict:
    """Where the ensemble can gain: the patterns on which nets 1 and 2 disagree.

    predictions: three arrays (N,) of predicted classes (nets 1, 2, 3); targets (N,).
    Where nets 1 and 2 agree, net 3 can rarely overturn them, so boosting pays only if net 3,
    trained for exactly these patterns, is right on them more often than net 1 is.
    Returns the disagreeing share and each net's accuracy on those patterns.
    """
    targets = np.asarray(targets)
    disagree = np.asarray(predictions[0]) != np.asarray(predictions[1])
    return {"disagreement_share": float(disagree.mean()),
            "accuracy_where_nets_1_2_disagree": [float((np.asarray(p)[disagree] == targets[disagree]).mean())
                                                 if disagree.any() else None for p in predictions]}


class BoostedEnsemble(nn.Module):
    """Sum of the members' softmax outputs: x -> (N, classes); argmax is the ensemble's prediction."""

    def __init__(self, members):
        super().__init__()
        self.members = nn.ModuleList(members)

    def forward(self, x):
        total = None
        for member in self.members:
            probabilities = F.softmax(member(x), dim=1)
            total = probabilities if total is None else total + probabilities
        return total


def boost(model_factory, train, predict, dataset, seed=0, log=print, pool=None):
    """Train three nets by filtering and return (ensemble, info).

    model_factory() -> a new model; train(model, dataset) trains it in place; predict(model, dataset)
    -> predicted classes (NumPy). ``dataset`` is an ArrayDataset. info holds each set's size.
    ``pool`` (an ArrayDataset; default ``dataset``, the paper's method) is where the sets of nets 2
    and 3 are filtered from: Drucker et al. filtered a stream of new, deformed patterns, so that the
    later nets' sets are not limited to the few training patterns net 1 gets wrong.
    """
    pool = dataset if pool is None else pool
    net1 = model_factory()
    log(f"boosting: net 1 on all {len(dataset):,} patterns")
    train(net1, dataset)
    predictions_1 = predict(net1, pool)
    second = second_net_indices(predictions_1 == pool.targets, seed)
    log(f"boosting: net 2 on {len(second):,} patterns of {len(pool):,} (half right, half wrong for net 1)")
    net2 = model_factory()
    train(net2, pool.take(second))
    third = third_net_indices(predictions_1, predict(net2, pool))
    if len(third) == 0:
        raise RuntimeError("boosting: nets 1 and 2 agree on every training pattern, so net 3 has nothing "
                           "to learn from; train net 1 for fewer epochs or use a larger training set")
    log(f"boosting: net 3 on the {len(third):,} patterns where nets 1 and 2 disagree")
    net3 = model_factory()
    train(net3, pool.take(third))
    return BoostedEnsemble([net1, net2, net3]), {"net2_patterns": int(len(second)), "net3_patterns": int(len(third))}
