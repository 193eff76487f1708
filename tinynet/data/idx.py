"""The IDX file format of MNIST and Fashion-MNIST, read with every field checked.

Layout (big-endian): two zero bytes, a type code (0x08 = unsigned byte), the number of dimensions
d, then d 32-bit sizes, then the data. Labels are 1-D (magic 0x00000801), images 3-D (0x00000803).
Files may be gzip-compressed (.gz) or raw.
"""
from __future__ import annotations

import gzip
import os
import zlib

import numpy as np

_TYPES = {0x08: np.uint8, 0x09: np.int8, 0x0B: np.dtype(">i2"), 0x0C: np.dtype(">i4"),
          0x0D: np.dtype(">f4"), 0x0E: np.dtype(">f8")}


class IDXError(ValueError):
    """An IDX file is truncated, corrupt or not an IDX file at all."""


def decompress(raw: bytes, name: str) -> bytes:
    """``raw`` gunzipped if it is gzip data, else unchanged; IDXError if the gzip stream is damaged."""
    if raw[:2] != b"\x1f\x8b":
        return raw
    try:
        return gzip.decompress(raw)
    except (EOFError, OSError, zlib.error) as error:
        raise IDXError(f"{name}: the gzip data is truncated or corrupt ({error}); delete the file "
                       f"and provide it again") from None


def read_bytes(path) -> bytes:
    """The file's bytes, decompressed if it is gzip."""
    path = os.fspath(path)
    with open(path, "rb") as handle:
        return decompress(handle.read(), path)


def parse_idx(data: bytes, name: str = "<bytes>") -> np.ndarray:
    if len(data) < 4:
        raise IDXError(f"{name}: only {len(data)} bytes, too short to be an IDX file")
    if data[0] != 0 or data[1] != 0 or data[2] not in _TYPES:
        raise IDXError(f"{name}: wrong magic number 0x{data[:4].hex()} -- not an IDX file "
                       f"(expected 0x0000 then a type code such as 08, e.g. 0x00000803 for images)")
    ndim = data[3]
    header = 4 + 4 * ndim
    if len(data) < header:
        raise IDXError(f"{name}: truncated header ({len(data)} bytes, {header} needed for {ndim} dimensions)")
    shape = tuple(int.from_bytes(data[4 + 4 * k:8 + 4 * k], "big") for k in range(ndim))
    dtype = np.dtype(_TYPES[data[2]])
    expected = int(np.prod(shape)) * dtype.itemsize
    if len(data) - header != expected:
        raise IDXError(f"{name}: header says shape {shape} ({expected} bytes of data) but the file "
                       f"holds {len(data) - header} bytes -- truncated or corrupt")
    return np.frombuffer(data, dtype=dtype, offset=header).reshape(shape).astype(dtype.newbyteorder("="))


def read_idx(path) -> np.ndarray:
    """Read an IDX file (.gz or raw) into a NumPy array, checking magic number, dimensions and size."""
    return parse_idx(read_bytes(path), os.fspath(path))
