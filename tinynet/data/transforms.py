"""Transforms of whole NumPy batches, each a callable ``transform(batch, rng) -> batch``.

Images are (N, H, W) or (N, C, H, W); pixel values arrive as float copies of the stored bytes.
``on_device = True`` marks the transforms written with plain array operations, which work on CuPy
batches as well: a DataLoader then keeps the whole data set on the GPU (tinynet/data/loader.py).
"""
from __future__ import annotations

import numpy as np


class Compose:
    def __init__(self, *transforms):
        self.transforms = transforms
        self.on_device = all(getattr(transform, "on_device", False) for transform in transforms)

    def __call__(self, batch, rng):
        for transform in self.transforms:
            batch = transform(batch, rng)
        return batch


class ScaleTo01:
    """x / 255: bytes 0..255 to [0, 1]."""

    on_device = True

    def __call__(self, batch, rng):
        return batch / np.float32(255)


class Normalize:
    """(x - mean) / std with scalar statistics (Fashion-MNIST train: mean 0.2860, std 0.3530)."""

    on_device = True

    def __init__(self, mean, std):
        if not (np.isfinite(mean) and np.isfinite(std) and std > 0):
            raise ValueError(f"Normalize: mean must be finite and std finite and > 0, got mean={mean!r}, "
                             f"std={std!r} (Fashion-MNIST's: Normalize(0.2860, 0.3530))")
        self.mean, self.std = np.float32(mean), np.float32(std)

    def __call__(self, batch, rng):
        return (batch - self.mean) / self.std


class AddChannel:
    """(N, H, W) -> (N, 1, H, W) for convolutional models."""

    on_device = True

    def __call__(self, batch, rng):
        return batch[:, None] if batch.ndim == 3 else batch


class RandomHorizontalFlip:
    """Mirror each image left-right with probability p."""

    def __init__(self, p=0.5):
        self.p = p

    def __call__(self, batch, rng):
        flip = rng.random(len(batch)) < self.p
        batch = batch.copy()
        batch[flip] = batch[flip][..., ::-1]
        return batch


class RandomCrop:
    """Zero-pad by ``padding`` on every side, then cut a random size x size window per image."""

    def __init__(self, size, padding=0):
        self.size, self.padding = size, padding

    def __call__(self, batch, rng):
        p = self.padding
        widths = [(0, 0)] * (batch.ndim - 2) + [(p, p), (p, p)]
        padded = np.pad(batch, widths)
        h, w = padded.shape[-2:]
        if h < self.size or w < self.size:
            raise ValueError(f"RandomCrop: padded images are {h}x{w}, smaller than the crop size {self.size}")
        tops = rng.integers(0, h - self.size + 1, len(batch))
        lefts = rng.integers(0, w - self.size + 1, len(batch))
        return np.stack([image[..., t:t + self.size, left:left + self.size]
                         for image, t, left in zip(padded, tops, lefts)])
