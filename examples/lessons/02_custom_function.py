"""Lesson 02: write your own differentiable Function, and let gradcheck catch a wrong backward.

    python examples/lessons/02_custom_function.py

A Function has forward(arrays) -> array and backward(grad of output) -> grad of each input. Here:
softplus(x) = log(1 + exp(x)), whose derivative is sigmoid(x) = 1 / (1 + exp(-x)).
"""
import numpy as np

import tinynet as tn
from tinynet.tensor import Function


class Softplus(Function):
    def forward(self, x):
        self.x = x                                   # keep what backward needs
        return np.logaddexp(0.0, x)                  # log(1 + e^x) without overflow

    def backward(self, gy):
        return gy / (1.0 + np.exp(-self.x))          # chain rule: gy * sigmoid(x)


class SoftplusWithABug(Softplus):
    def backward(self, gy):
        return gy / (1.0 + np.exp(self.x))           # planted bug: the sign in exp is wrong


x = tn.tensor(np.linspace(-3, 3, 7), requires_grad=True, dtype="float64")
y = Softplus()(x)
print("softplus(x) =", np.round(y.numpy(), 4))
y.sum().backward()
print("its gradient  =", np.round(x.grad, 4), "(sigmoid(x))")

# gradcheck nudges each input by +-eps and compares (f(x+eps) - f(x-eps)) / 2eps with backward.
tn.gradcheck(lambda t: Softplus()(t), [x])
print("gradcheck: Softplus passes")
try:
    tn.gradcheck(lambda t: SoftplusWithABug()(t), [x])
except tn.GradcheckError as error:
    print("gradcheck caught the planted bug:", str(error).splitlines()[0])
else:
    raise SystemExit("gradcheck missed the planted bug")
