"""Lesson 02: write your own differentiable Function, and let gradcheck catch a wrong backward.

    python examples/lessons/02_custom_function.py      (the last part needs hypothesis: the dev extra)

A Function has forward(arrays) -> array and backward(grad of output) -> grad of each input. Here:
softplus(x) = log(1 + exp(x)), whose derivative is sigmoid(x) = 1 / (1 + exp(-x)).
"""
import numpy as np
from hypothesis import given, settings

import tinynet as tn
from tinynet.tensor import Function
from tinynet.testing import arrays, check_gradients


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

# A property test, as the project's own tests are written (tinynet.testing): hypothesis draws
# shapes, memory layouts (transposed, strided) and values, and shrinks any failure to a small case.


@settings(max_examples=25, deadline=None)
@given(x=arrays(low=-5.0, high=5.0))
def softplus_gradient_is_right(x):
    check_gradients(lambda t: Softplus()(t), x)


softplus_gradient_is_right()
print("hypothesis: Softplus passes gradcheck on 25 drawn arrays")
