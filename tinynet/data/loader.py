"""Datasets held as arrays, seeded splits and subsets, and the batch iterator (DataLoader)."""
from __future__ import annotations

import numpy as np

from ..backend import array_module, normalize_device
from ..tensor import Tensor


class ArrayDataset:
    """Inputs and targets as NumPy arrays of equal length; ``dataset[indices]`` gives a batch."""

    def __init__(self, inputs, targets, classes=None):
        if len(inputs) != len(targets):
            raise ValueError(f"ArrayDataset: {len(inputs)} inputs but {len(targets)} targets")
        self.inputs, self.targets, self.classes = np.asarray(inputs), np.asarray(targets), classes

    def __len__(self):
        return len(self.inputs)

    def __getitem__(self, index):
        return self.inputs[index], self.targets[index]

    def take(self, indices) -> "ArrayDataset":
        indices = np.asarray(indices)
        return ArrayDataset(self.inputs[indices], self.targets[indices], self.classes)


def random_split(dataset: ArrayDataset, fractions, seed=0):
    """Split into parts of the given fractions (summing to 1) or lengths, shuffled with ``seed``."""
    n = len(dataset)
    if all(isinstance(f, (int, np.integer)) for f in fractions):
        lengths = list(fractions)
    else:
        if abs(sum(fractions) - 1) > 1e-6:
            raise ValueError(f"random_split: fractions must sum to 1, got {fractions}")
        lengths = [int(np.floor(f * n)) for f in fractions]
        lengths[-1] = n - sum(lengths[:-1])
    if sum(lengths) != n:
        raise ValueError(f"random_split: lengths {lengths} do not add up to the dataset's {n}")
    order = np.random.default_rng(seed).permutation(n)
    bounds = np.cumsum([0] + lengths)
    return [dataset.take(order[a:b]) for a, b in zip(bounds[:-1], bounds[1:])]


def subset(dataset: ArrayDataset, n: int, seed=0) -> ArrayDataset:
    """``n`` patterns drawn at random without replacement (paper 000's training pattern reduction)."""
    if not 0 < n <= len(dataset):
        raise ValueError(f"subset: n must be in [1, {len(dataset)}], got {n}")
    return dataset.take(np.sort(np.random.default_rng(seed).permutation(len(dataset))[:n]))


def subset_by_loss(dataset: ArrayDataset, losses, n: int, hard_fraction=1.0, seed=0) -> ArrayDataset:
    """Training pattern reduction by loss (paper 000's future work): keep ``n`` patterns, the
    round(hard_fraction * n) with the highest per-example loss plus the rest drawn at random from
    the others. hard_fraction=1 keeps only the hardest; 0 is the plain random subset.
    """
    losses = np.asarray(losses)
    if len(losses) != len(dataset):
        raise ValueError(f"subset_by_loss: {len(losses)} losses for {len(dataset)} patterns")
    if not 0 < n <= len(dataset):
        raise ValueError(f"subset_by_loss: n must be in [1, {len(dataset)}], got {n}")
    hard_count = int(round(hard_fraction * n))
    order = np.argsort(-losses, kind="stable")
    hard, rest = order[:hard_count], order[hard_count:]
    random_part = np.random.default_rng(seed).choice(rest, n - hard_count, replace=False)
    return dataset.take(np.sort(np.concatenate([hard, random_part])))


class DataLoader:
    """Iterate over (inputs, targets) batches as Tensors on ``device``.

    inputs are float32 after ``transform`` (a function of a NumPy batch and a generator, see
    tinynet.data.transforms); targets stay integers. With ``shuffle``, epoch e uses the order drawn
    from ``seed`` + e, so runs repeat exactly and a resumed run continues the same sequence.

    An ArrayDataset whose transform works on device arrays too (``on_device``: scaling, normalising,
    adding the channel axis; not the random crops and flips) is copied to the device once, at the
    first epoch, and each batch is gathered there: no copy from the host per batch on a GPU. Other
    datasets and transforms build each batch on the host and copy it over.
    """

    def __init__(self, dataset, batch_size=32, shuffle=False, drop_last=False, seed=0,
                 transform=None, device="cpu", dtype=np.float32):
        if batch_size < 1:
            raise ValueError(f"batch_size must be at least 1, got {batch_size}")
        self.dataset, self.batch_size, self.shuffle, self.drop_last = dataset, batch_size, shuffle, drop_last
        self.seed, self.transform, self.dtype = seed, transform, dtype
        self.device = normalize_device(device)
        self.epoch = 0
        self.resident = isinstance(dataset, ArrayDataset) and getattr(transform, "on_device", transform is None)
        self._device_arrays = None

    def __len__(self):
        n = len(self.dataset)
        return n // self.batch_size if self.drop_last else -(-n // self.batch_size)

    def __iter__(self):
        rng = np.random.default_rng(self.seed + self.epoch)
        self.epoch += 1
        n = len(self.dataset)
        order = rng.permutation(n) if self.shuffle else np.arange(n)
        xp = array_module(self.device)
        if self.resident:
            if self._device_arrays is None:
                self._device_arrays = xp.asarray(self.dataset.inputs), xp.asarray(self.dataset.targets)
            order = xp.asarray(order)  # one copy per epoch
        for start in range(0, len(self) * self.batch_size, self.batch_size):
            indices = order[start:start + self.batch_size]
            if self.resident:
                inputs, targets = (array[indices] for array in self._device_arrays)
            else:
                inputs, targets = self.dataset[indices]
            inputs = inputs.astype(self.dtype)
            if self.transform is not None:
                inputs = self.transform(inputs, rng).astype(self.dtype, copy=False)
            yield Tensor(xp.asarray(inputs)), Tensor(xp.asarray(targets))
