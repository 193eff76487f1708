"""Cold and warm start of the main example: Numba compiles the kernels on first use and caches
the machine code on disk (cache=True); later runs load it.

    python benchmarks/bench_startup.py

Cold: the kernel cache (tinynet/kernels/__pycache__/*.nbi, *.nbc) is deleted first. Warm: run again.
Each is the wall time of `python examples/lstm_fmnist.py --quick` (data loading and a few batches).
"""
import glob
import os
import subprocess
import sys
import time

from common import machine

ROOT = os.path.join(os.path.dirname(os.path.abspath(__file__)), "..")


def timed_run(out):
    started = time.perf_counter()
    subprocess.run([sys.executable, os.path.join(ROOT, "examples", "lstm_fmnist.py"), "--quick", "--no-progress",
                    "--out", out], check=True, stdout=subprocess.DEVNULL)
    return time.perf_counter() - started


def main():
    cache = glob.glob(os.path.join(ROOT, "tinynet", "kernels", "__pycache__", "*.nb[ic]"))
    for path in cache:
        os.remove(path)
    out = os.path.join(ROOT, "runs", "bench_startup")
    cold = timed_run(out)
    warm = sorted(timed_run(out) for _ in range(3))[1]
    print(f"machine: {machine()}")
    print(f"examples/lstm_fmnist.py --quick: cold start {cold:.1f} s (Numba compiles, {len(cache)} cache files "
          f"removed), warm start {warm:.1f} s (median of 3, kernels loaded from the disk cache)")


if __name__ == "__main__":
    main()
