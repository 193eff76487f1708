"""Layers with PyTorch's constructor arguments, shapes and parameter names."""
from __future__ import annotations

import numpy as np

from .. import functional as F
from ..functional.conv import check_pool_padding
from ..tensor import Tensor
from . import init
from .module import Module, Parameter


def check_input(layer, x, ndims, channels=None, channel_axis=1, layout=""):
    """Raise ValueError naming the layer, the expected and the actual shape, before NumPy can fail;
    TypeError for a non-Tensor, or for a dtype other than the layer's weights (as PyTorch does:
    a float64 batch into a float32 model would otherwise run the whole forward in float64)."""
    if not isinstance(x, Tensor):
        raise TypeError(f"{layer}: expected a tinynet Tensor, got {type(x).__name__}; wrap it with tn.tensor(...)")
    if x.ndim not in ndims:
        raise ValueError(f"{layer}: expected a {' or '.join(f'{n}-D' for n in ndims)} input {layout}, "
                         f"got shape {x.shape}")
    if channels is not None and x.shape[channel_axis] != channels:
        raise ValueError(f"{layer}: expected {channels} features/channels on axis {channel_axis}, "
                         f"got shape {x.shape}")
    if x.dtype.kind != "f":
        raise TypeError(f"{layer}: expected a floating-point input, got dtype {x.dtype}; "
                        f"convert with x.astype('float32')")
    weights = list(layer._parameters.values()) if isinstance(layer, Module) else []
    if weights and weights[0] is not None and x.dtype != weights[0].dtype:
        raise TypeError(f"{layer}: input dtype {x.dtype} differs from the layer's weights ({weights[0].dtype}); "
                        f"convert the input with x.astype('{weights[0].dtype}') (or the model with "
                        f"model.{'double' if x.dtype == np.float64 else 'float'}())")


def check_size(owner, name, value, minimum=1):
    """Raise ValueError unless ``value`` is a whole number >= minimum; returns it as int."""
    if isinstance(value, bool) or not isinstance(value, (int, np.integer)) or value < minimum:
        raise ValueError(f"{owner}: {name} must be a whole number >= {minimum}, got {value!r}")
    return int(value)


def _empty(*shape):
    return Parameter(np.empty(shape, dtype=np.float32))


class Linear(Module):
    """y = x W^T + b.  x (..., in_features) -> y (..., out_features); W (out, in), b (out,)."""

    def __init__(self, in_features, out_features, bias=True):
        super().__init__()
        self.in_features = check_size("Linear", "in_features", in_features)
        self.out_features = check_size("Linear", "out_features", out_features)
        self.weight = _empty(out_features, in_features)
        self.bias = _empty(out_features) if bias else None
        init.pytorch_default_(self.weight, self.bias)

    def forward(self, x):
        check_input(self, x, range(1, 10), self.in_features, -1, "(..., in_features)")
        return F.linear(x, self.weight, self.bias)

    def extra_repr(self):
        return f"in_features={self.in_features}, out_features={self.out_features}, bias={self.bias is not None}"


def _pair_int(value, name, minimum=1):
    if isinstance(value, (tuple, list)):
        if len(set(value)) != 1:
            raise ValueError(f"{name}: tinynet supports square kernels, strides and paddings, got {value}")
        value = value[0]
    owner, _, what = name.partition(" ")
    return check_size(owner, what, value, minimum)


class Conv2d(Module):
    """2-D convolution (cross-correlation), NCHW.

    x (N, C_in, H, W) -> y (N, C_out, OH, OW), OH = (H + 2 padding - k) // stride + 1;
    weight (C_out, C_in, k, k), bias (C_out,). ``fused=False`` (a tinynet extension) computes it with
    F.conv2d_composed, im2col in Tensor ops, to study; same results, slower.
    """

    def __init__(self, in_channels, out_channels, kernel_size, stride=1, padding=0, bias=True, fused=True):
        super().__init__()
        self.fused = fused
        self.in_channels = check_size("Conv2d", "in_channels", in_channels)
        self.out_channels = check_size("Conv2d", "out_channels", out_channels)
        self.kernel_size = _pair_int(kernel_size, "Conv2d kernel_size")
        self.stride, self.padding = _pair_int(stride, "Conv2d stride"), _pair_int(padding, "Conv2d padding", 0)
        self.weight = _empty(out_channels, in_channels, self.kernel_size, self.kernel_size)
        self.bias = _empty(out_channels) if bias else None
        init.pytorch_default_(self.weight, self.bias)

    def forward(self, x):
        check_input(self, x, (4,), self.in_channels, 1, "(N, C, H, W)")
        convolution = F.conv2d if self.fused else F.conv2d_composed
        return convolution(x, self.weight, self.bias, self.stride, self.padding)

    def extra_repr(self):
        return (f"{self.in_channels}, {self.out_channels}, kernel_size={self.kernel_size}, "
                f"stride={self.stride}, padding={self.padding}, bias={self.bias is not None}"
                + ("" if self.fused else ", fused=False"))


class _Pool2d(Module):
    function = None

    def __init__(self, kernel_size, stride=None, padding=0):
        super().__init__()
        name = type(self).__name__
        self.kernel_size = _pair_int(kernel_size, f"{name} kernel_size")
        self.stride = _pair_int(stride, f"{name} stride") if stride is not None else self.kernel_size
        self.padding = _pair_int(padding, f"{name} padding", 0)
        check_pool_padding(name, self.kernel_size, self.padding)

    def forward(self, x):
        check_input(self, x, (4,), layout="(N, C, H, W)")
        if min(x.shape[2:]) + 2 * self.padding < self.kernel_size:
            raise ValueError(f"{self}: input {x.shape} is smaller than the pooling window")
        return type(self).function(x, self.kernel_size, self.stride, self.padding)

    def extra_repr(self):
        return f"kernel_size={self.kernel_size}, stride={self.stride}, padding={self.padding}"


class MaxPool2d(_Pool2d):
    """Max over k x k windows: (N, C, H, W) -> (N, C, OH, OW); stride defaults to k."""
    function = staticmethod(F.max_pool2d)


class AvgPool2d(_Pool2d):
    """Mean over k x k windows (zero padding counted): (N, C, H, W) -> (N, C, OH, OW)."""
    function = staticmethod(F.avg_pool2d)


class AdaptiveAvgPool2d(Module):
    """Global average pooling: (N, C, H, W) -> (N, C, 1, 1). Only output_size=1 is supported."""

    def __init__(self, output_size=1):
        super().__init__()
        if output_size not in (1, (1, 1)):
            raise ValueError(f"AdaptiveAvgPool2d: only output_size=1 is supported, got {output_size}")

    def forward(self, x):
        check_input(self, x, (4,), layout="(N, C, H, W)")
        return F.global_avg_pool2d(x)


class _BatchNorm(Module):
    ndims = ()

    def __init__(self, num_features, eps=1e-5, momentum=0.1):
        super().__init__()
        check_size(type(self).__name__, "num_features", num_features)
        self.num_features, self.eps, self.momentum = num_features, eps, momentum
        self.weight = Parameter(np.ones(num_features, dtype=np.float32))
        self.bias = Parameter(np.zeros(num_features, dtype=np.float32))
        self.register_buffer("running_mean", np.zeros(num_features, dtype=np.float32))
        self.register_buffer("running_var", np.ones(num_features, dtype=np.float32))
        self.register_buffer("num_batches_tracked", np.array(0, dtype=np.int64))

    def forward(self, x):
        check_input(self, x, self.ndims, self.num_features, 1)
        y = F.batch_norm(x, self.running_mean, self.running_var, self.weight, self.bias,
                         self.training, self.momentum, self.eps)
        if self.training:  # counted once the batch was accepted
            self.register_buffer("num_batches_tracked", self.num_batches_tracked + 1)
        return y

    def extra_repr(self):
        return f"{self.num_features}, eps={self.eps}, momentum={self.momentum}"


class BatchNorm1d(_BatchNorm):
    """Batch norm over (N, C): per-feature statistics over the batch."""
    ndims = (2,)


class BatchNorm2d(_BatchNorm):
    """Batch norm over (N, C, H, W): per-channel statistics over batch and pixels."""
    ndims = (4,)


class Dropout(Module):
    """Inverted dropout: zero each element with probability p and scale the rest by 1/(1-p) in
    training; the identity in eval mode."""

    def __init__(self, p=0.5):
        super().__init__()
        if not 0 <= p < 1:
            raise ValueError(f"Dropout: p must be in [0, 1), got {p}")
        self.p = p

    def forward(self, x):
        return F.dropout(x, self.p, self.training)

    def extra_repr(self):
        return f"p={self.p}"


class Flatten(Module):
    """(N, d1, d2, ...) -> (N, d1 * d2 * ...)."""

    def forward(self, x):
        return F.flatten(x)


def _activation(name, function, doc):
    return type(name, (Module,), {"forward": lambda self, x: function(x), "__doc__": doc})


ReLU = _activation("ReLU", F.relu, "y = max(x, 0), elementwise.")
Tanh = _activation("Tanh", F.tanh, "y = tanh(x), elementwise.")
Sigmoid = _activation("Sigmoid", F.sigmoid, "y = 1 / (1 + exp(-x)), elementwise (overflow-free).")


class LeakyReLU(Module):
    """y = x for x > 0, negative_slope * x otherwise."""

    def __init__(self, negative_slope=0.01):
        super().__init__()
        self.negative_slope = negative_slope

    def forward(self, x):
        return F.leaky_relu(x, self.negative_slope)

    def extra_repr(self):
        return f"negative_slope={self.negative_slope}"


class Softmax(Module):
    """y = exp(x) / sum(exp(x)) along ``dim``."""

    def __init__(self, dim=-1):
        super().__init__()
        self.dim = dim

    def forward(self, x):
        return F.softmax(x, self.dim)

    def extra_repr(self):
        return f"dim={self.dim}"


class LogSoftmax(Softmax):
    """y = x - log(sum(exp(x))) along ``dim``."""

    def forward(self, x):
        return F.log_softmax(x, self.dim)


class CrossEntropyLoss(Module):
    """Mean of -log softmax(logits)[target]: logits (N, C), integer targets (N,) in [0, C)."""

    def forward(self, logits, target):
        return F.cross_entropy(logits, target)


class NLLLoss(Module):
    """Mean of -log_probs[n, target_n]: pair it with LogSoftmax."""

    def forward(self, log_probs, target):
        return F.nll_loss(log_probs, target)


class MSELoss(Module):
    """Mean of (prediction - target)^2."""

    def forward(self, prediction, target):
        return F.mse_loss(prediction, target)
