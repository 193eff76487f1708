"""Matrix products: matmul (2-D and batched) and the fused linear layer y = x W^T + b."""
from __future__ import annotations

from ..kernels import matrix_product
from ..tensor import Function


class MatMul(Function):
    """y = a @ b over the last two axes (leading axes broadcast); da = gy b^T, db = a^T gy."""

    def forward(self, a, b):
        if a.ndim < 2 or b.ndim < 2:
            raise ValueError(f"matmul needs tensors of at least 2 dimensions, got shapes {a.shape} "
                             f"and {b.shape}; reshape a vector v to (1, n) or (n, 1) first")
        if a.shape[-1] != b.shape[-2]:
            raise ValueError(f"matmul shapes {a.shape} and {b.shape} do not match: "
                             f"{a.shape[-1]} (last axis of a) != {b.shape[-2]} (second-last of b)")
        self.a, self.b = a, b
        return matrix_product(a, b)

    def backward(self, gy):
        ga = matrix_product(gy, self.b.swapaxes(-1, -2)) if self.needs_input_grad[0] else None
        gb = matrix_product(self.a.swapaxes(-1, -2), gy) if self.needs_input_grad[1] else None
        return ga, gb


class Linear(Function):
    """y = x W^T + b for x (..., in), W (out, in), b (out,); one node instead of three.

    dx = gy W,  dW = gy^T x (summed over leading axes),  db = sum of gy over leading axes.
    """

    def forward(self, x, weight, bias=None):
        self.x, self.weight, self.has_bias = x, weight, bias is not None
        y = matrix_product(x, weight.T)
        return y + bias if self.has_bias else y

    def backward(self, gy):
        x2 = self.x.reshape(-1, self.x.shape[-1])
        g2 = gy.reshape(-1, gy.shape[-1])
        grads = (matrix_product(gy, self.weight) if self.needs_input_grad[0] else None, matrix_product(g2.T, x2))
        return grads + (g2.sum(axis=0),) if self.has_bias else grads


def matmul(a, b): return MatMul()(a, b)


def linear(x, weight, bias=None):
    return Linear()(x, weight) if bias is None else Linear()(x, weight, bias)
