"""Lesson 07: threshold pruning, and what the mask does to each update.

    python examples/lessons/07_pruning_mask.py

prune.by_threshold sets every weight with |w| < threshold to zero and gives the Parameter a 0/1
mask. The optimizer multiplies the gradient by that mask before its update, and the weight by it after
(the PruningMask hook in tinynet/optim/hooks.py, one of the optimizer's hooks), so a pruned weight stays
exactly zero, with every optimizer, for as long as the mask is there (it travels in state_dict() too).
"""
import numpy as np

import tinynet as tn
from tinynet import nn, optim, prune

tn.manual_seed(0)
layer = nn.Linear(4, 3)
print("weights before pruning:\n", np.round(layer.weight.numpy(), 3))
report = prune.by_threshold(layer, 0.25)
print(f"pruned at 0.25: {report['total']['zeros']} of {report['total']['total']} weights are zero; mask:\n",
      layer.weight.mask.astype(int))

x = tn.tensor(np.random.default_rng(0).standard_normal((8, 4)), dtype=np.float32)
target = np.arange(8) % 3
optimizer = optim.Adam(layer.parameters(), lr=0.1)
optimizer.zero_grad()
nn.CrossEntropyLoss()(layer(x), target).backward()
print("raw gradient (pruned places too):\n", np.round(layer.weight.grad, 3))
print("the optimizer's hooks, run in this order at every step:", [type(h).__name__ for h in optimizer.hooks])
print("gradient the update uses (times the mask):\n", np.round(optimizer.gradient(layer.weight), 3))
before = layer.weight.numpy()
for _ in range(20):
    optimizer.zero_grad()
    nn.CrossEntropyLoss()(layer(x), target).backward()
    optimizer.step()
after = layer.weight.numpy()
pruned = layer.weight.mask == 0
print("after 20 Adam steps, the pruned weights are still", np.unique(after[pruned]),
      "and the others moved by up to", np.round(np.abs(after - before)[~pruned].max(), 3))
assert (after[pruned] == 0).all()

restored = nn.Linear(4, 3)
restored.load_state_dict(layer.state_dict())  # holds "weight_mask": the pruning comes along
print("a model loaded from this state dict is pruned too:", restored.weight.mask is not None)
