"""Lesson 01: autograd on scalars. A forward pass records a graph; backward() walks it in reverse.

    python examples/lessons/01_autograd_graph.py      (writes runs/lessons/01_graph.png)

The function is y = exp(a * b) + a: small enough to differentiate by hand, and a is used twice,
which is where gradients have to be added up.
"""
import math
import os

import tinynet as tn
from tinynet.viz import graph_dot, plot_graph

OUT = os.path.join("runs", "lessons")

# 1. Forward: each operation on tensors that require grad records a Function and its inputs.
a = tn.tensor(2.0, requires_grad=True, dtype="float64")
b = tn.tensor(-3.0, requires_grad=True, dtype="float64")
c = a * b            # Mul
d = c.exp()          # Exp
y = d + a            # Add: a is used twice, so its gradient has two paths
print(f"y = exp(a * b) + a = {y.item():.6f}")
print(f"y was made by {y.creator.name}; its inputs were made by "
      f"{[x.creator.name if x.creator else 'you (a leaf)' for x in y.creator.inputs]}")

# 2. The graph, as Graphviz DOT text and as a picture drawn with matplotlib (values shown).
print(graph_dot(y))
c.retain_grad()      # keep the gradient of an intermediate tensor, to look at it
y.backward(retain_graph=True)  # keep the graph so it can be drawn with the gradients
print("picture:", plot_graph(y, os.path.join(OUT, "01_graph.png"), "y = exp(a * b) + a"))

# 3. Backward, checked by hand with the chain rule:
#    dy/dc = exp(c);  dy/da = dy/dc * b + 1 (the second path);  dy/db = dy/dc * a
by_hand = {"a": math.exp(-6.0) * -3.0 + 1.0, "b": math.exp(-6.0) * 2.0, "c": math.exp(-6.0)}
for name, tensor in (("a", a), ("b", b), ("c", c)):
    print(f"dy/d{name}: autograd {float(tensor.grad):+.8f}, by hand {by_hand[name]:+.8f}")
    assert abs(float(tensor.grad) - by_hand[name]) < 1e-12

# 4. Gradients add up: a second backward (through a new graph) adds to .grad; zero it first.
a.zero_grad()
(a * a).backward()
print(f"after zero_grad, d(a*a)/da = {float(a.grad)} (= 2a)")
