"""Data: the IDX reader, Fashion-MNIST / MNIST, datasets, loaders and batch transforms."""
from .datasets import DIGIT_CLASSES, FASHION_CLASSES, DatasetNotFoundError, fashion_mnist, locate, mnist
from .idx import IDXError, read_idx
from .loader import ArrayDataset, DataLoader, random_split, subset, subset_by_loss
from .transforms import AddChannel, Compose, Normalize, RandomCrop, RandomHorizontalFlip, ScaleTo01

__all__ = [name for name in dir() if not name.startswith("_")]
