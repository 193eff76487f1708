"""Which version of a kernel runs: Numba for NumPy arrays unless TINYNET_NUMBA=0."""
import os

import numpy as np


def numba_enabled() -> bool:
    return os.environ.get("TINYNET_NUMBA", "1") != "0"


def use_numba(array) -> bool:
    return isinstance(array, np.ndarray) and numba_enabled()
