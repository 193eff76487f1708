"""Shared by the benchmark scripts: the benchmark models, a median timer, and the machine's description."""
import os
import platform
import statistics
import sys
import time

sys.path.insert(0, os.path.join(os.path.dirname(__file__), ".."))

import numpy as np  # noqa: E402

import tinynet as tn  # noqa: E402
from tinynet import backend, models, nn  # noqa: E402

# name: (factory, input shape of one example, batch size as in the papers, loss)
MODELS = {
    "lstm": (models.LSTMClassifier, (28, 28), 100, nn.NLLLoss),
    "cnn_lstm": (lambda: models.CNNLSTM("model1"), (1, 28, 28), 64, nn.CrossEntropyLoss),
    "lenet5": (models.lenet5, (1, 28, 28), 64, nn.CrossEntropyLoss),
    "conv2bn": (models.conv2_bn, (1, 28, 28), 64, nn.CrossEntropyLoss),
    "mlp": (lambda: models.ann("ann1"), (1, 28, 28), 100, nn.CrossEntropyLoss),
    "resnet18": (models.ResNet18, (1, 28, 28), 128, nn.CrossEntropyLoss),
}


def median_seconds(fn, repeats, device="cpu"):
    """Median wall time of ``repeats`` calls of fn (synchronising the GPU around each)."""
    times = []
    for _ in range(repeats):
        backend.synchronize(device)
        start = time.perf_counter()
        fn()
        backend.synchronize(device)
        times.append(time.perf_counter() - start)
    return statistics.median(times)


def machine() -> str:
    cpu = platform.processor() or "unknown CPU"
    try:
        with open("/proc/cpuinfo") as handle:
            cpu = next(line.split(":", 1)[1].strip() for line in handle if line.startswith("model name"))
    except (OSError, StopIteration):
        pass
    text = f"{cpu}, {os.cpu_count()} cores, Python {platform.python_version()}, NumPy {np.__version__}"
    if backend.gpu_available():
        name = backend.cupy.cuda.runtime.getDeviceProperties(0)["name"].decode()
        text += f", GPU {name}, CuPy {backend.cupy.__version__}"
    return text + f", tinynet {tn.__version__}"


def batch(shape, size, device, seed=0):
    rng = np.random.default_rng(seed)
    x = tn.tensor(rng.random((size,) + shape, dtype=np.float32), device=device)
    y = tn.tensor(rng.integers(0, 10, size), device=device)
    return x, y
