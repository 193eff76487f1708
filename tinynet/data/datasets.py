"""Fashion-MNIST and MNIST: found on disk, or downloaded once into a cache.

Search order for the four files (train/t10k images/labels, .gz or raw):
  1. the ``data_dir`` argument (--data-dir in the examples);
  2. the TINYNET_DATA environment variable (the folder itself, or its fashion-mnist/ or mnist/ sub-folder);
  3. /usr/share/datasets/<name> (Debian/Ubuntu: apt-get install dataset-fashion-mnist);
  4. ~/.cache/tinynet/<name>.
If none holds them, they are downloaded into 4, checked against SHA-256 digests of their
decompressed contents (the files on mirrors and in distributions are compressed differently) and
written atomically (temporary file, then rename).
"""
from __future__ import annotations

import hashlib
import os
import urllib.request
from dataclasses import dataclass
from pathlib import Path

import numpy as np

from ..serialization import atomic_write
from .idx import IDXError, decompress, parse_idx, read_bytes
from .loader import ArrayDataset

FASHION_CLASSES = ("T-shirt/top", "Trouser", "Pullover", "Dress", "Coat", "Sandal", "Shirt",
                   "Sneaker", "Bag", "Ankle boot")
DIGIT_CLASSES = tuple(str(d) for d in range(10))

SPLIT_FILES = {"train": ("train-images-idx3-ubyte", "train-labels-idx1-ubyte"),
               "test": ("t10k-images-idx3-ubyte", "t10k-labels-idx1-ubyte")}


@dataclass(frozen=True)
class DatasetSource:
    name: str                # folder name, e.g. "fashion-mnist"
    urls: tuple              # mirrors holding <file>.gz
    sha256: dict             # file stem -> SHA-256 of the decompressed IDX bytes (None: not pinned)
    classes: tuple


FASHION_MNIST = DatasetSource(
    "fashion-mnist", ("http://fashion-mnist.s3-website.eu-central-1.amazonaws.com/",),
    {"train-images-idx3-ubyte": "c59f468a2f672dc815687fe0f83887768d799fd8a3f3276145d20f83aa44d888",
     "train-labels-idx1-ubyte": "bad3541b69d912435c50bb6ba87bec294ff4f6a2e1246121d8633921760443d9",
     "t10k-images-idx3-ubyte": "5b4141f0afbad91edebe8549f8fcffe087ea10ca49f1dbef5c9a5cd8815ce37b",
     "t10k-labels-idx1-ubyte": "0402a96d92fd2663957122ceb108a494c5af83dab82d92729df917d7dec38c34"},
    FASHION_CLASSES)

# MNIST's digests are not pinned here (no copy was at hand to compute them); downloads are still
# checked structurally by the IDX reader (magic number, dimensions, sizes).
MNIST = DatasetSource(
    "mnist", ("https://ossci-datasets.s3.amazonaws.com/mnist/", "http://yann.lecun.com/exdb/mnist/"),
    {stem: None for pair in SPLIT_FILES.values() for stem in pair}, DIGIT_CLASSES)


class DatasetNotFoundError(FileNotFoundError):
    """The data set is on no searched path and could not be downloaded."""


def cache_dir() -> Path:
    return Path(os.path.expanduser("~")) / ".cache" / "tinynet"


def candidate_dirs(source: DatasetSource, data_dir=None) -> list:
    dirs = []
    if data_dir is not None:
        dirs.append(Path(data_dir))
    if os.environ.get("TINYNET_DATA"):
        root = Path(os.environ["TINYNET_DATA"])
        dirs += [root, root / source.name]
    dirs += [Path("/usr/share/datasets") / source.name, cache_dir() / source.name]
    return dirs


def _find_file(folder: Path, stem: str):
    for name in (stem + ".gz", stem):
        if (folder / name).is_file():
            return folder / name
    return None


def locate(source: DatasetSource, data_dir=None):
    """The first folder holding all four files, or None."""
    for folder in candidate_dirs(source, data_dir):
        if all(_find_file(folder, stem) for pair in SPLIT_FILES.values() for stem in pair):
            return folder
    return None


def verify(source: DatasetSource, stem: str, contents: bytes, origin: str):
    expected = source.sha256.get(stem)
    if expected is not None and hashlib.sha256(contents).hexdigest() != expected:
        raise IDXError(f"{origin}: checksum mismatch for {stem} (SHA-256 of the decompressed data is "
                       f"{hashlib.sha256(contents).hexdigest()}, expected {expected}); the download is "
                       f"corrupt -- delete it and try again")


def download(source: DatasetSource, opener=None) -> Path:
    """Fetch the four files into the cache; returns the folder. ``opener`` defaults to urlopen."""
    opener = opener or urllib.request.urlopen
    target = cache_dir() / source.name
    errors = []
    for stem in (s for pair in SPLIT_FILES.values() for s in pair):
        if _find_file(target, stem):
            continue
        for base in source.urls:
            url = f"{base}{stem}.gz"
            try:
                with opener(url, timeout=30) as response:
                    payload = response.read()
            except Exception as error:  # network errors of any kind: try the next mirror
                errors.append(f"{url}: {error}")
                continue
            contents = decompress(payload, url)  # checked in memory; only a good file is written
            parse_idx(contents, url)
            verify(source, stem, contents, url)
            atomic_write(target / f"{stem}.gz", lambda out: out.write(payload))
            break
        else:
            raise DatasetNotFoundError(_not_found_message(source, errors))
    return target


def _not_found_message(source: DatasetSource, errors) -> str:
    searched = "\n".join(f"    {d}" for d in candidate_dirs(source))
    tried = "\n".join(f"    {e}" for e in errors[-4:])
    return (f"{source.name} was not found and could not be downloaded.\n"
            f"  Searched:\n{searched}\n  Download attempts:\n{tried}\n"
            f"  Provide the four IDX files (train/t10k images/labels, .gz or raw) in one of these ways:\n"
            f"    - Debian/Ubuntu: sudo apt-get install dataset-fashion-mnist\n"
            f"    - pass --data-dir DIR (or data_dir=DIR) pointing at a folder holding them\n"
            f"    - set TINYNET_DATA=DIR\n"
            f"    - copy them into {cache_dir() / source.name}")


def load(source: DatasetSource, split="train", data_dir=None, download_if_missing=True) -> ArrayDataset:
    """images (N, 28, 28) uint8 and labels (N,) int64 of one split, as an ArrayDataset."""
    if split not in SPLIT_FILES:
        raise ValueError(f"split must be 'train' or 'test', got {split!r}")
    folder = locate(source, data_dir)
    if folder is None:
        if not download_if_missing:
            raise DatasetNotFoundError(_not_found_message(source, []))
        folder = download(source)
    image_stem, label_stem = SPLIT_FILES[split]
    arrays = []
    for stem in (image_stem, label_stem):
        path = _find_file(folder, stem)
        contents = read_bytes(path)
        verify(source, stem, contents, str(path))
        arrays.append(parse_idx(contents, str(path)))
    images, labels = arrays
    if images.ndim != 3 or labels.ndim != 1:
        raise IDXError(f"{folder}: expected 3-D images and 1-D labels, got {images.shape} and {labels.shape}")
    if len(images) != len(labels):
        raise IDXError(f"{folder}: {len(images)} images but {len(labels)} labels in the {split} split")
    return ArrayDataset(images, labels.astype(np.int64), classes=source.classes)


def fashion_mnist(split="train", data_dir=None) -> ArrayDataset:
    """Fashion-MNIST (Xiao et al., 2017): 60,000 train / 10,000 test 28x28 grey images, 10 classes."""
    return load(FASHION_MNIST, split, data_dir)


def mnist(split="train", data_dir=None) -> ArrayDataset:
    """MNIST handwritten digits, found and read the same way as Fashion-MNIST."""
    return load(MNIST, split, data_dir)
