"""Batch normalisation and dropout."""
from __future__ import annotations

from ..backend import get_array_module, random_uniform
from ..tensor import Function, Tensor
from .elementwise import mul


class BatchNorm(Function):
    """y = (x - mean) / sqrt(var + eps) * weight + bias, per channel (axis 1).

    x is (N, C) or (N, C, H, W); statistics run over every axis but the channel axis, m values each.
    Training uses the batch's mean and biased variance and updates the running statistics in place:
    running = (1 - momentum) * running + momentum * batch, with the unbiased variance var * m/(m-1)
    (PyTorch's rule). Evaluation uses the running statistics. With x_hat the normalised input and
    g = gy * weight, training backward is dx = (m g - sum(g) - x_hat sum(g x_hat)) / (m sqrt(var + eps)).
    """

    def __init__(self, running_mean, running_var, training, momentum, eps):
        self.running_mean, self.running_var = running_mean, running_var
        self.training, self.momentum, self.eps = training, momentum, eps

    def forward(self, x, weight, bias):
        xp = get_array_module(x)
        self.axes = (0,) if x.ndim == 2 else (0, 2, 3)
        self.shape = (1, -1) + (1,) * (x.ndim - 2)
        if self.training:
            self.count = x.size // x.shape[1] if x.shape[1] else 0
            if self.count < 2:  # no variance from one value; from none, NaN in the running statistics
                raise ValueError(f"batch_norm: training needs more than one value per channel, got input of "
                                 f"shape {x.shape}; use batches of 2 or more (DataLoader(..., drop_last=True) "
                                 f"drops a short last batch) or call model.eval()")
            mean, var = x.mean(axis=self.axes), x.var(axis=self.axes)
            if self.running_mean is not None:
                m = self.momentum
                unbiased = var * (self.count / max(self.count - 1, 1))
                self.running_mean *= 1 - m
                self.running_mean += m * mean.astype(self.running_mean.dtype)
                self.running_var *= 1 - m
                self.running_var += m * unbiased.astype(self.running_var.dtype)
        else:
            mean, var = self.running_mean.astype(x.dtype), self.running_var.astype(x.dtype)
        self.inv_std = (1 / xp.sqrt(var + x.dtype.type(self.eps))).reshape(self.shape)
        self.x_hat = (x - mean.reshape(self.shape)) * self.inv_std
        self.weight = weight
        return self.x_hat * weight.reshape(self.shape) + bias.reshape(self.shape)

    def backward(self, gy):
        g = gy * self.weight.reshape(self.shape)
        if self.training:
            g_sum = g.sum(axis=self.axes, keepdims=True)
            g_xhat_sum = (g * self.x_hat).sum(axis=self.axes, keepdims=True)
            gx = (self.count * g - g_sum - self.x_hat * g_xhat_sum) * (self.inv_std / self.count)
        else:
            gx = g * self.inv_std
        return gx, (gy * self.x_hat).sum(axis=self.axes), gy.sum(axis=self.axes)


def batch_norm(x, running_mean, running_var, weight, bias, training=True, momentum=0.1, eps=1e-5):
    """running_mean / running_var are raw arrays (or None to use batch statistics only)."""
    return BatchNorm(running_mean, running_var, training, momentum, eps)(x, weight, bias)


def dropout(x, p=0.5, training=True, mask=None):
    """Inverted dropout: y = x * keep / (1 - p), keep ~ Bernoulli(1 - p); the identity in eval.

    ``mask`` (0/1 array of x's shape) fixes which elements are kept, for tests.
    """
    if not 0 <= p < 1:
        raise ValueError(f"dropout probability must be in [0, 1), got {p}")
    if not training or p == 0:
        return x
    if mask is None:
        mask = random_uniform(x.shape, x.device, x.dtype) >= p
    mask = mask.data if isinstance(mask, Tensor) else mask
    return mul(x, Tensor(mask.astype(x.dtype) * x.dtype.type(1 / (1 - p))))
