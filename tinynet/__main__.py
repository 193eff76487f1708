"""``python -m tinynet``: versions and devices, the first thing to paste into a bug report."""
import platform
import sys

import numba
import numpy

import tinynet
from tinynet import backend
from tinynet.kernels import blas, dispatch


def report() -> str:
    lines = [f"tinynet {tinynet.__version__}", f"Python {sys.version.split()[0]} ({platform.platform()})",
             f"NumPy {numpy.__version__}", f"Numba {numba.__version__}, threads: {numba.config.NUMBA_NUM_THREADS}, "
             f"threading layer: {numba.config.THREADING_LAYER}",
             "NumPy's BLAS for compiled loops: " + ("found" if blas.gemm_function(numpy.float32) else
                                                    "not found (the LSTM layer loops in Python, slower)"),
             "Matrix products: " + ("split over Numba's threads, OpenBLAS set to 1 thread"
                                    if dispatch.BLAS_ON_NUMBA_THREADS else "on OpenBLAS's own threads")]
    if backend.cupy is None:
        lines.append(f"CuPy: not available ({backend._CUPY_IMPORT_ERROR})")
    else:
        lines.append(f"CuPy {backend.cupy.__version__}")
    devices = ["cpu"]
    if backend.gpu_available():
        runtime = backend.cupy.cuda.runtime
        for index in range(runtime.getDeviceCount()):
            name = runtime.getDeviceProperties(index)["name"].decode()
            devices.append(f"gpu:{index} {name}")
    lines.append("Devices: " + ", ".join(devices))
    return "\n".join(lines)


if __name__ == "__main__":
    print(report())
