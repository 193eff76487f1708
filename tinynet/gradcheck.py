"""Check analytical gradients against central differences, in float64.

For a function f of tensors x_k with outputs y, pick a fixed random weight v for every output
and look at the scalar L = sum(v * y). Backward gives dL/dx_k; the numerical estimate of each
element is (L(x + eps e) - L(x - eps e)) / (2 eps). Fast mode checks one random direction u per
input instead of every element: (L(x + eps u) - L(x - eps u)) / (2 eps) against sum(dL/dx * u).

Near a kink (relu at 0, max with ties, abs at 0, clip at a bound) no gradient is right: the one-sided
differences (L(x + eps e) - L(x)) / eps and (L(x) - L(x - eps e)) / eps then disagree, and the
point is reported as NonDifferentiableError rather than as a wrong gradient.
"""
from __future__ import annotations

import numpy as np

from .backend import get_array_module, to_numpy
from .tensor import Tensor, no_grad


class GradcheckError(AssertionError):
    """The analytical gradient disagrees with the numerical one."""


class NonDifferentiableError(GradcheckError):
    """The function has a kink within eps of the point checked: pick another point."""


def _flat_outputs(result):
    if isinstance(result, Tensor):
        return [result]
    return [t for item in result for t in _flat_outputs(item)]


def _weighted_sum(fn, inputs, weights) -> float:
    with no_grad():
        outputs = _flat_outputs(fn(*inputs))
    return float(sum((to_numpy(y.data).astype(np.float64) * v).sum() for y, v in zip(outputs, weights)))


def gradcheck(fn, inputs, eps=1e-6, atol=1e-5, rtol=1e-3, fast_mode=False, kink_tol=1e-3, seed=0):
    """Raise GradcheckError (or NonDifferentiableError) unless fn's gradients match; return True.

    fn: callable taking ``inputs`` (Tensors) and returning a Tensor or a (nested) tuple of Tensors.
    Inputs with requires_grad=True are checked; they must be float64 so that eps is meaningful.
    """
    rng = np.random.default_rng(seed)
    checked = [k for k, x in enumerate(inputs) if isinstance(x, Tensor) and x.requires_grad]
    if not checked:
        raise ValueError("gradcheck: no input has requires_grad=True, so there is nothing to check")
    for k in checked:
        if inputs[k].dtype != np.float64:
            raise TypeError(f"gradcheck: input {k} is {inputs[k].dtype}; central differences need "
                            f"float64 inputs (tn.tensor(..., dtype='float64'))")
        inputs[k].grad = None

    outputs = _flat_outputs(fn(*inputs))
    weights = [rng.standard_normal(y.shape) for y in outputs]
    loss = None
    for y, v in zip(outputs, weights):
        if y.requires_grad:
            term = (y * Tensor(get_array_module(y.data).asarray(v, dtype=y.dtype))).sum()
            loss = term if loss is None else loss + term
    if loss is None:
        raise GradcheckError("gradcheck: no output depends on an input that requires grad")
    loss.backward()
    center = _weighted_sum(fn, inputs, weights)

    def numerical(x, direction):
        """Central, forward and backward differences of L along ``direction`` (added in place)."""
        original = x.data.copy()
        x.data += direction
        plus = _weighted_sum(fn, inputs, weights)
        x.data[...] = original - direction
        minus = _weighted_sum(fn, inputs, weights)
        x.data[...] = original
        return (plus - minus) / (2 * eps), (plus - center) / eps, (center - minus) / eps

    def compare(k, where, analytical, central, forward, backward):
        if not (np.isfinite(analytical) and np.isfinite(central)):  # NaN compares as neither near nor far
            raise GradcheckError(f"non-finite gradient for input {k} at {where}: analytical {analytical}, "
                                 f"numerical {central}; check at a point where the function is finite")
        scale = max(1.0, abs(forward), abs(backward))
        if abs(forward - backward) > kink_tol * scale and abs(analytical - central) > atol + rtol * abs(central):
            raise NonDifferentiableError(
                f"input {k} at {where}: the function has a kink within eps={eps} (one-sided "
                f"slopes {forward:.6g} and {backward:.6g}); check at a point away from it")
        if abs(analytical - central) > atol + rtol * abs(central):
            raise GradcheckError(
                f"gradient mismatch for input {k} at {where}: analytical {analytical:.8g}, "
                f"numerical {central:.8g} (difference {abs(analytical - central):.3g}, "
                f"tolerance atol={atol} + rtol={rtol} * |numerical|)")

    for k in checked:
        x = inputs[k]
        xp = get_array_module(x.data)
        grad = np.zeros(x.shape) if x.grad is None else to_numpy(x.grad).astype(np.float64)
        if fast_mode:
            u = rng.standard_normal(x.shape)
            u /= max(np.linalg.norm(u), 1e-12)
            central, forward, backward = numerical(x, xp.asarray(u * eps))
            compare(k, "a random direction", float((grad * u).sum()), central, forward, backward)
            continue
        for index in np.ndindex(*x.shape):
            step = xp.zeros(x.shape)
            step[index] = eps
            central, forward, backward = numerical(x, step)
            compare(k, f"index {index}", float(grad[index]), central, forward, backward)
    return True
