"""Losses with mean reduction: cross-entropy (log-softmax + NLL fused), NLL and mean squared error."""
from __future__ import annotations

from ..backend import get_array_module
from ..tensor import Function, Tensor
from .reductions import log_softmax_array


def check_class_targets(scores, target, loss_name):
    """Targets must be integers of shape (N,), each in [0, C) for scores of shape (N, C)."""
    if scores.ndim != 2:
        raise ValueError(f"{loss_name}: expected scores of shape (batch, classes), got {scores.shape}")
    target_array = target.data if isinstance(target, Tensor) else target
    xp = get_array_module(scores.data)
    target_array = xp.asarray(target_array)
    if target_array.dtype.kind not in "iu":
        raise TypeError(f"{loss_name}: targets must be integer class indices, got dtype "
                        f"{target_array.dtype}; convert with .astype(int)")
    if target_array.shape != (scores.shape[0],):
        raise ValueError(f"{loss_name}: expected targets of shape ({scores.shape[0]},) for scores "
                         f"{scores.shape}, got {target_array.shape}")
    classes = scores.shape[1]
    if target_array.size:
        low, high = int(target_array.min()), int(target_array.max())
        if low < 0 or high >= classes:
            raise ValueError(f"{loss_name}: target {low if low < 0 else high} is outside "
                             f"[0, {classes}) for scores with {classes} classes")
    return Tensor(target_array)


class NLL(Function):
    """loss = -mean_n scores[n, t_n]; d scores[n, t_n] = -1/N."""

    def forward(self, log_probs, target):
        xp = get_array_module(log_probs)
        self.shape, self.dtype, self.target = log_probs.shape, log_probs.dtype, target
        rows = xp.arange(len(target))
        return -log_probs[rows, target].mean()

    def backward(self, gy):
        xp = get_array_module(gy)
        grad = xp.zeros(self.shape, self.dtype)
        grad[xp.arange(len(self.target)), self.target] = -gy / self.shape[0]
        return grad, None


class CrossEntropy(NLL):
    """loss = -mean_n log softmax(z_n)[t_n]; dz = (softmax(z) - onehot(t)) / N. Stable for any |z|."""

    def forward(self, logits, target):
        self.log_probs = log_softmax_array(logits, axis=1)
        return super().forward(self.log_probs, target)

    def backward(self, gy):
        grad, _ = super().backward(gy)
        return grad + get_array_module(gy).exp(self.log_probs) * (gy / self.shape[0]), None


def cross_entropy(logits, target):
    return CrossEntropy()(logits, check_class_targets(logits, target, "cross_entropy"))


def nll_loss(log_probs, target):
    return NLL()(log_probs, check_class_targets(log_probs, target, "nll_loss"))


def mse_loss(prediction, target):
    """mean((prediction - target)^2); both of the same shape."""
    if prediction.shape != tuple(getattr(target, "shape", ())):
        raise ValueError(f"mse_loss: prediction {prediction.shape} and target "
                         f"{tuple(getattr(target, 'shape', ()))} must have the same shape")
    difference = prediction - target
    return (difference * difference).mean()
