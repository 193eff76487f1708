"""Fashion-MNIST and MNIST: found on disk, or downloaded once into a cache.

Search order for the four files (train/t10k images/labels, .gz or raw):
  1. the ``data_dir`` argument (--data-dir in the examples);
  2. the TINYNET_DATA environment variable (the folder itself, or its fashion-mnist/ or mnist/ sub-folder);
  3. /usr/share/datasets/<name> (Debian/Ubuntu: apt-get install dataset-fashion-mnist);
  4. ~/.cache/tinynet/<name>.
An explicit choice (1 or 2) is the only place looked at: if it lacks a file, that is an error
naming the folder and the missing files, never a silent fall-back to another copy.
Otherwise, if neither 3 nor 4 holds them, they are downloaded into 4, checked against SHA-256 digests of their
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

from ..io import atomic_write
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
    """The folders searched: only the explicit choice if there is one, else the default places."""
    if data_dir is not None:
        return [Path(data_dir)]
    if os.environ.get("TINYNET_DATA"):
        root = Path(os.environ["TINYNET_DATA"])
        return [root, root / source.name]
    return [Path("/usr/share/datasets") / source.name, cache_dir() / source.name]


def _explicit_choice(data_dir):
    if data_dir is not None:
        return f"--data-dir / data_dir={data_dir}"
    if os.environ.get("TINYNET_DATA"):
        return f"TINYNET_DATA={os.environ['TINYNET_DATA']}"
    return None


def _find_file(folder: Path, stem: str):
    for name in (stem + ".gz", stem):
        if (folder / name).is_file():
            return folder / name
    return None


def locate(source: DatasetSource, data_dir=None):
    """The first folder holding all four files, or None. DatasetNotFoundError if an explicit
    choice (data_dir, TINYNET_DATA) holds them nowhere."""
    stems = [stem for pair in SPLIT_FILES.values() for stem in pair]
    folders = candidate_dirs(source, data_dir)
    for folder in folders:
        if all(_find_file(folder, stem) for stem in stems):
            return folder
    choice = _explicit_choice(data_dir)
    if choice is not None:
        missing = [stem for stem in stems if not _find_file(folders[0], stem)]
        state = "does not exist" if not folders[0].is_dir() else f"lacks {', '.join(missing)} (.gz or raw)"
        raise DatasetNotFoundError(f"{choice}: the folder {folders[0]} {state}; point it at the folder "
                                   f"holding the four {source.name} IDX files, or leave it unset to use "
                                   f"the system copy")
    return None


def verify(source: DatasetSource, stem: str, contents: bytes, origin: str, downloaded: bool):
    """Compare the SHA-256 of a parsed file's contents with the published data set's."""
    expected = source.sha256.get(stem)
    actual = hashlib.sha256(contents).hexdigest()
    if expected is not None and actual != expected:
        what = ("the download is corrupt -- try again (another mirror may help)" if downloaded else
                "the file is a well-formed IDX file but not the published data (edited, or another "
                "data set) -- replace it with the original")
        raise IDXError(f"{origin}: checksum mismatch for {stem} (SHA-256 of the decompressed data is "
                       f"{actual}, expected {expected}); {what}")


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
            verify(source, stem, contents, url, downloaded=True)
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
        arrays.append(parse_idx(contents, str(path)))  # structure first: says what is wrong
        verify(source, stem, contents, str(path), downloaded=False)
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
