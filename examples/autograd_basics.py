"""Ten lines of autograd: a forward pass builds the graph, backward() walks it in reverse."""
import tinynet as tn
import tinynet.functional as F
from tinynet.viz import graph_dot

w = tn.tensor([[0.5, -1.0], [2.0, 0.25]], requires_grad=True, dtype="float64")
x = tn.tensor([[1.0, 2.0]], dtype="float64")
loss = ((F.sigmoid(x @ w.T) - 1.0) ** 2).mean()   # forward: records Functions and their inputs
print(graph_dot(loss).count("shape=box"), "Functions in the graph (graph_dot gives Graphviz DOT)")
loss.backward()                                     # backward: reverse topological order, then frees
print(loss)
print(w.grad)                                       # d loss / d w, the shape of w
tn.gradcheck(lambda w: ((F.sigmoid(x @ w.T) - 1.0) ** 2).mean(), [w])
print("gradcheck: analytical gradient == central differences")
