"""Pruning: set small weights to zero and keep them there while retraining (paper 000).

A pruned Parameter carries a 0/1 ``mask``; every optimizer multiplies the gradient by it before the
update and the weight by it after (the PruningMask hook, tinynet/optim/hooks.py), so a pruned weight
stays exactly zero, even when pruning comes after the optimizer has gathered momentum. The extra cost
of an update is two elementwise multiplies per pruned tensor.

Default selection: the weights (not biases, not batch norm) of Linear, Conv2d, LSTM and LSTMCell.
"""
from __future__ import annotations

import numpy as np

from . import backend
from .nn import LSTM, Conv2d, Linear, LSTMCell

PRUNABLE_LAYERS = (Linear, Conv2d, LSTM, LSTMCell)


def prunable(model, layer_types=PRUNABLE_LAYERS) -> list:
    """[(name, Parameter)] of the weights that pruning touches by default."""
    chosen = []
    for prefix, module in model.named_modules():
        if isinstance(module, layer_types):
            for name, parameter in module._parameters.items():
                if name.startswith("weight"):
                    chosen.append((f"{prefix}.{name}" if prefix else name, parameter))
    return chosen


def _apply(parameter, keep):
    """Combine ``keep`` (bool, CPU) with any existing mask, zero the pruned weights."""
    xp = backend.get_array_module(parameter.data)
    mask = xp.asarray(keep, dtype=parameter.dtype)
    if parameter.mask is not None:
        mask *= parameter.mask
    parameter.mask = mask
    parameter.data *= mask
    parameter.mark_changed_in_place()


def _selected(model, parameters):
    """The explicit ``parameters`` list ([(name, Parameter)]), or the default selection if None."""
    if parameters is None:
        return prunable(model)
    parameters = list(parameters)
    if not parameters:
        raise ValueError("pruning: parameters=[] selects no weight; pass None for the default selection "
                         "(the weights of Linear, Conv2d, LSTM and LSTMCell)")
    return parameters


def by_threshold(model, threshold, parameters=None) -> dict:
    """Zero every selected weight with |w| < threshold and keep it zero; returns the sparsity report.
    threshold must be a finite number >= 0 (0 prunes nothing)."""
    is_number = isinstance(threshold, (int, float, np.integer, np.floating)) and not isinstance(threshold, bool)
    if not (is_number and 0 <= threshold < np.inf):
        raise ValueError(f"by_threshold: threshold must be a finite number >= 0 (weights with |w| below it "
                         f"are pruned), got {threshold!r}")
    parameters = _selected(model, parameters)
    for _, parameter in parameters:
        _apply(parameter, np.abs(backend.to_numpy(parameter.data)) >= threshold)
    return sparsity(model, parameters)


def by_fraction(model, fraction, scope="layer", parameters=None) -> dict:
    """Zero the ``fraction`` of selected weights with the smallest |w|: in each tensor (scope="layer")
    or over all of them together (scope="global"). Returns the sparsity report."""
    if not 0 <= fraction <= 1:
        raise ValueError(f"fraction must be in [0, 1], got {fraction}")
    if scope not in ("layer", "global"):
        raise ValueError(f"scope must be 'layer' or 'global', got {scope!r}")
    chosen = parameters = _selected(model, parameters)
    magnitudes = [np.abs(backend.to_numpy(p.data)).ravel() for _, p in chosen]
    groups = [[k] for k in range(len(chosen))] if scope == "layer" else [list(range(len(chosen)))]
    for group in groups:
        values = np.concatenate([magnitudes[k] for k in group])
        count = int(np.floor(fraction * values.size))
        pruned = np.zeros(values.size, dtype=bool)
        pruned[np.argsort(values, kind="stable")[:count]] = True
        offset = 0
        for k in group:
            size = magnitudes[k].size
            _apply(chosen[k][1], ~pruned[offset:offset + size].reshape(chosen[k][1].shape))
            offset += size
    return sparsity(model, parameters)


def sparsity(model, parameters=None) -> dict:
    """{"layers": {name: {"zeros", "total", "sparsity"}}, "total": {...}} over the selected weights."""
    layers, zeros, total = {}, 0, 0
    for name, parameter in _selected(model, parameters):
        count = int((backend.to_numpy(parameter.data) == 0).sum())
        layers[name] = {"zeros": count, "total": parameter.size, "sparsity": count / max(parameter.size, 1)}
        zeros, total = zeros + count, total + parameter.size
    return {"layers": layers, "total": {"zeros": zeros, "total": total, "sparsity": zeros / max(total, 1)}}


def format_report(report) -> str:
    """The sparsity report as a text table."""
    width = max([len(n) for n in report["layers"]] + [5])
    lines = [f"{'layer':<{width}}{'zeros':>10}{'total':>10}{'sparsity':>10}"]
    rows = list(report["layers"].items()) + [("total", report["total"])]
    lines += [f"{name:<{width}}{r['zeros']:>10,}{r['total']:>10,}{r['sparsity']:>10.1%}" for name, r in rows]
    return "\n".join(lines)


def restore_masks(model, parameters=None) -> dict:
    """Masks re-derived from the weights that are exactly zero (load_state_dict restores saved masks
    by itself; this is for weights pruned elsewhere, e.g. converted from another framework)."""
    parameters = _selected(model, parameters)
    for _, parameter in parameters:
        parameter.mask = None
        _apply(parameter, backend.to_numpy(parameter.data) != 0)
    return sparsity(model, parameters)


def remove(model) -> None:
    """Make pruning permanent: the zeros stay, the masks go, so weights may train again."""
    for parameter in model.parameters():
        parameter.mask = None
