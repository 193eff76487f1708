"""The benchmark scripts and `python -m tinynet` still run (smoke runs: no timing is asserted)."""
import os
import subprocess
import sys

import numpy as np

BENCHMARKS = os.path.join(os.path.dirname(__file__), "..", "benchmarks")
sys.path.insert(0, BENCHMARKS)

import bench_kernels  # noqa: E402
import bench_train  # noqa: E402


def test_python_m_tinynet_reports_versions_and_devices():
    out = subprocess.run([sys.executable, "-m", "tinynet"], capture_output=True, text=True, check=True).stdout
    for field in ("tinynet", "Python", "NumPy", "Numba", "threads", "threading layer", "Matrix products",
                  "BLAS for compiled loops: found", "CuPy",
                  "Devices: cpu"):
        assert field in out


def test_bench_kernels_runs_the_reference_and_numba_version_of_every_kernel():
    """... both forms of the conv weight gradient, both paths of a one-channel conv, and each way of running
    a product (equality of the versions: tests/test_kernels.py)."""
    special = {"conv dW 40x20x5x5": ["one prod", "per image"], "conv fwd 64x1x28x28 6x5x5": ["im2col", "direct"],
               "conv dW 64x1x28x28 6x5x5": ["im2col", "direct"], "maxpool fwd 64x20x26x26": ["reference", "numba",
                                                                                               "numba 2x2"]}
    for product in ("product 2800x64 @ 64x256", "product 256x2800 @ 2800x64"):  # and OpenBLAS's 2 threads last
        special |= {product: ["split rows", "split cols", "split inner", "openblas 1"], product + " ": ["openblas 2"]}
    cases = bench_kernels.cases(np)
    assert set(special) <= set(cases)
    for name, (_, versions, nbytes) in cases.items():
        ran = [version for version, fn in versions.items() if version != "cupy" and fn() is not False]
        assert nbytes > 0 and ran == special.get(name, ["reference", "numba"]), name


def test_bench_train_measures_every_field():
    result = bench_train.measure("mlp", "cpu", rounds=1, steps=1, warmup=0, batch_size=8)
    assert set(result) == {"model", "device", "batch", "first_step_s", "step_ms", "inference_samples_per_s"}
    assert result["step_ms"] > 0 and result["inference_samples_per_s"] > 0
