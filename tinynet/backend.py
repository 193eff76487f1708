"""The array backend: NumPy on the CPU, CuPy on the GPU.

Everything above this module writes NumPy-style code against ``xp``, the array module that
``get_array_module(*arrays)`` returns, so one body of code runs on either device (Chainer's habit).
"""
from __future__ import annotations

import ctypes
import os
import sys

import numpy as np

try:  # CuPy is optional: only the "gpu" device needs it.
    import cupy
    _CUPY_IMPORT_ERROR = None
except Exception as error:  # ImportError, or a CUDA library CuPy could not load
    cupy = None
    _CUPY_IMPORT_ERROR = error

CPU, GPU = "cpu", "gpu"
_DEVICE_ALIASES = {"cpu": CPU, "gpu": GPU, "cuda": GPU}
_cpu_generator = np.random.default_rng()


class DeviceError(RuntimeError):
    """A device was asked for that this machine cannot provide."""


def keep_freed_cpu_memory(mmap_threshold=32 * 2 ** 20, trim_threshold=64 * 2 ** 20) -> bool:
    """Let glibc recycle freed arrays instead of handing each one back to the operating system.

    glibc serves an allocation above its mmap threshold (128 KiB at start) with a fresh mmap and
    unmaps it on free, so a training step's megabytes of temporaries are brand-new pages every
    time: 3,400 page faults per LSTM step, a quarter of its time. glibc raises the threshold by
    itself (to at most 32 MiB, keeping up to 64 MiB of free heap) once a large array is freed,
    which a script that loads a data set usually does early; these are those settings, made
    deterministic from the start. Called once at import; TINYNET_KEEP_FREED_MEMORY=0 skips it.
    Returns whether glibc took the settings (False elsewhere, where nothing changes).
    """
    if os.environ.get("TINYNET_KEEP_FREED_MEMORY", "1") == "0" or not sys.platform.startswith("linux"):
        return False
    try:
        mallopt = ctypes.CDLL(None).mallopt
    except (OSError, AttributeError):  # not glibc (e.g. musl): leave the allocator as it is
        return False
    m_trim_threshold, m_mmap_threshold = -1, -3
    return bool(mallopt(m_mmap_threshold, mmap_threshold)) and bool(mallopt(m_trim_threshold, trim_threshold))


keep_freed_cpu_memory()


def normalize_device(device) -> str:
    """Map "cpu" / "gpu" / "cuda" (any case, "cuda:0" too) to "cpu" or "gpu"."""
    name = str(device).lower().split(":")[0]
    if name not in _DEVICE_ALIASES:
        raise ValueError(f"unknown device {device!r}: use 'cpu' or 'gpu' ('cuda' is accepted too)")
    return _DEVICE_ALIASES[name]


def gpu_available() -> bool:
    """True when CuPy imports and sees at least one CUDA device."""
    if cupy is None:
        return False
    try:
        return cupy.cuda.runtime.getDeviceCount() > 0
    except Exception:
        return False


def require_gpu():
    """Return the cupy module, or raise DeviceError naming the cause and the fix."""
    if cupy is None:
        raise DeviceError(
            f"device 'gpu' needs CuPy, which could not be imported ({_CUPY_IMPORT_ERROR}). "
            'Install it with: pip install "tinynet[gpu]" (CUDA 12), or the CuPy wheel matching '
            "your CUDA version, e.g. pip install cupy-cuda13x. Or run with --device cpu.")
    if not gpu_available():
        raise DeviceError(
            "device 'gpu' asked for, but CuPy sees no CUDA GPU (is the NVIDIA driver loaded? "
            "does nvidia-smi list a GPU? is CUDA_VISIBLE_DEVICES set?). Or run with --device cpu.")
    return cupy


def array_module(device):
    """The array module (numpy or cupy) of a device name."""
    return np if normalize_device(device) == CPU else require_gpu()


def get_array_module(*arrays):
    """numpy, or cupy if any of ``arrays`` (raw arrays or Tensors) lives on the GPU."""
    if cupy is not None:
        for a in arrays:
            # a Tensor wraps its array in .data; a CuPy array's own .data is a memory pointer
            if isinstance(a, cupy.ndarray) or isinstance(getattr(a, "data", None), cupy.ndarray):
                return cupy
    return np


def device_of(array) -> str:
    return GPU if get_array_module(array) is not np else CPU


def to_device(array, device):
    """Copy ``array`` to ``device`` (no copy when it is already there)."""
    device = normalize_device(device)
    if device == CPU:
        return array.get() if device_of(array) == GPU else np.asarray(array)
    return require_gpu().asarray(array)


def to_numpy(array) -> np.ndarray:
    return to_device(array, CPU)


def manual_seed(seed: int) -> None:
    """Seed every random generator tinynet uses: NumPy's, tinynet's own and CuPy's if present."""
    global _cpu_generator
    np.random.seed(seed)
    _cpu_generator = np.random.default_rng(seed)
    if gpu_available():
        cupy.random.seed(seed)


def cpu_rng() -> np.random.Generator:
    """The generator behind initialisation, dropout on the CPU and shuffling without a seed."""
    return _cpu_generator


def random_uniform(shape, device, dtype):
    """Uniform [0, 1) samples on ``device`` (dropout masks)."""
    if normalize_device(device) == CPU:
        return _cpu_generator.random(shape, dtype=np.float64).astype(dtype, copy=False)
    return require_gpu().random.random_sample(shape).astype(dtype, copy=False)


def scatter_add(target, index, values) -> None:
    """target[index] += values, where repeated indices add up (numpy.add.at / cupyx.scatter_add)."""
    if get_array_module(target) is np:
        np.add.at(target, index, values)
    else:
        import cupyx
        cupyx.scatter_add(target, index, values)


def synchronize(device) -> None:
    """Wait for the GPU to finish queued work (for timing); nothing to wait for on the CPU."""
    if normalize_device(device) == GPU:
        require_gpu().cuda.Device().synchronize()
