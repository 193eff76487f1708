"""Lesson 03: broadcasting, and how gradients are summed back to each input's shape.

    python examples/lessons/03_broadcasting.py

x (3, 1) + b (4,) gives (3, 4): NumPy stretches x along axis 1 and b along a new axis 0. Each
element of x was used 4 times and each element of b 3 times, so backward must add up those uses.
tinynet does it once for every Function, in tinynet/tensor.py: sum_to_shape.
"""
import numpy as np

import tinynet as tn
from tinynet.tensor import sum_to_shape

x = tn.tensor([[1.0], [2.0], [3.0]], requires_grad=True, dtype="float64")      # (3, 1)
b = tn.tensor([10.0, 20.0, 30.0, 40.0], requires_grad=True, dtype="float64")    # (4,)
y = x + b
print("x + b =\n", y.numpy(), "shape", y.shape)

weights = tn.tensor(np.arange(12.0).reshape(3, 4), dtype="float64")
(y * weights).sum().backward()          # dL/dy = weights, shape (3, 4)
print("dL/dy (3, 4) =\n", weights.numpy())
print("dL/dx (3, 1) = rows of dL/dy summed:    ", x.grad.ravel(), "=", weights.numpy().sum(axis=1))
print("dL/db (4,)   = columns of dL/dy summed: ", b.grad, "=", weights.numpy().sum(axis=0))
assert np.array_equal(x.grad.ravel(), weights.numpy().sum(axis=1))
assert np.array_equal(b.grad, weights.numpy().sum(axis=0))

# The rule: sum over the axes broadcasting added (leading ones) and the ones it stretched from 1.
print("sum_to_shape((3, 4) -> (3, 1)):", sum_to_shape(weights.numpy(), (3, 1)).ravel())
print("sum_to_shape((3, 4) -> (4,)):  ", sum_to_shape(weights.numpy(), (4,)))

# gradcheck agrees for shapes that broadcast in both directions at once.
tn.gradcheck(lambda x, b: (x * b).sum(axis=0), [x, b])
print("gradcheck: x * b, summed over axis 0, passes")
