"""tinynet against PyTorch: the same models, weights and batches, each engine at its best.

    pip install torch            # optional: only the comparison scripts need it
    python benchmarks/compare_torch.py --model lstm cnn_lstm lenet5 mlp     # training steps
    python benchmarks/compare_torch.py --epoch                              # paper 000's whole epoch
    python benchmarks/compare_torch.py --epoch --device gpu                 # the same on a GPU, PyTorch on cuDNN
    python benchmarks/compare_torch.py --mode same-process --model lstm     # both in one process

Default (``--mode alone``): every measurement runs in a process of its own holding one engine, as a
user runs them, and the processes alternate (tinynet, PyTorch, tinynet, ...) so machine drift hits
both. PyTorch keeps its default threads (one per core). A training step is forward + backward + Adam
on a batch of the paper's size; printed: the median over processes of each process's median step.

``--epoch``: what a user sees. tinynet: ``python examples/lstm_fmnist.py --epochs 1``, its training
loop's seconds as the script measures them (from its history.json; the line it prints rounds them to
0.1 s) and the whole command's wall time. PyTorch: the same model
trained for one epoch over the same data (pixels / 255, reshuffled, batch 100, Adam 1e-3), tensors
sliced from the preloaded set (on a GPU, a set copied to it once, as tinynet's DataLoader does), loss and
accuracy accumulated per batch as the tinynet loop does.

``--mode same-process`` is the old comparison, kept to show why it misleads: NumPy's OpenBLAS threads
and PyTorch's OpenMP threads spin-wait after each parallel operation and take the cores from each
other, so both engines slow down (PyTorch most: 23 ms per LSTM step instead of 10.6 on the 2-core
machine of benchmarks/RESULTS.md).
"""
import argparse
import json
import os
import pathlib
import statistics
import subprocess
import sys
import tempfile
import time

import numpy as np

import tinynet as tn
from tinynet import data, optim

from common import MODELS, batch, machine

try:
    import torch
    from torch import nn as tnn
except ImportError:
    sys.exit("compare_torch.py needs PyTorch: pip install torch (CPU build: pip install torch==2.13.0 "
             "--index-url https://download.pytorch.org/whl/cpu)")

HERE = os.path.dirname(os.path.abspath(__file__))
EXAMPLE = os.path.join(HERE, "..", "examples", "lstm_fmnist.py")


class TorchLSTMClassifier(tnn.Module):
    def __init__(self):
        super().__init__()
        self.lstm = tnn.LSTM(28, 64, 2, batch_first=True)
        self.fc = tnn.Linear(64, 10)
        self.log_softmax = tnn.LogSoftmax(dim=1)

    def forward(self, x):
        return self.log_softmax(self.fc(self.lstm(x)[0][:, -1]))


class TorchCNNLSTM(tnn.Module):
    def __init__(self):
        super().__init__()
        self.features = tnn.Sequential(tnn.Conv2d(1, 20, 3), tnn.ReLU(), tnn.MaxPool2d(2), tnn.Conv2d(20, 40, 5),
                                       tnn.ReLU(), tnn.Flatten(), tnn.Linear(3240, 500), tnn.ReLU(),
                                       tnn.Linear(500, 10))
        self.lstm = tnn.LSTM(10, 10, batch_first=True)
        self.readout = tnn.Linear(10, 10)

    def forward(self, x):
        sequence = self.features(x).reshape(-1, 1, 10).expand(-1, 10, 10)
        return self.readout(self.lstm(sequence)[0][:, -1])


def torch_twin(name):
    """The same architecture in PyTorch, built from tinynet's layer list where it is a Sequential."""
    if name == "lstm":
        return TorchLSTMClassifier()
    if name == "cnn_lstm":
        return TorchCNNLSTM()
    layers = []
    for layer in MODELS[name][0]():
        kind = type(layer).__name__
        if kind == "Conv2d":
            layers.append(tnn.Conv2d(layer.in_channels, layer.out_channels, layer.kernel_size, layer.stride,
                                     layer.padding, bias=layer.bias is not None))
        elif kind == "Linear":
            layers.append(tnn.Linear(layer.in_features, layer.out_features))
        elif kind in ("MaxPool2d", "AvgPool2d"):
            layers.append(getattr(tnn, kind)(layer.kernel_size, layer.stride, layer.padding))
        elif kind == "BatchNorm2d":
            layers.append(tnn.BatchNorm2d(layer.num_features))
        elif kind == "Dropout":
            layers.append(tnn.Dropout(layer.p))
        else:
            layers.append(getattr(tnn, kind)())
    return tnn.Sequential(*layers)


def training_step(model, loss_fn, optimizer, x, y):
    """forward, loss, zero_grad, backward, step: the same code for both engines (the same API)."""
    loss = loss_fn(model(x), y)
    optimizer.zero_grad()
    loss.backward()
    optimizer.step()
    loss.item()


def step_function(name, engine, device="cpu"):
    """One training step of ``engine`` ("tinynet" or "torch") on model ``name``, from tinynet's seed-0 weights."""
    factory, shape, size, loss_class = MODELS[name]
    tn.manual_seed(0)
    model = factory().to(device)
    x, y = batch(shape, size, device)
    if engine == "tinynet":
        loss_fn, optimizer = loss_class(), optim.Adam(model.parameters(), 1e-3)
        return lambda: training_step(model, loss_fn, optimizer, x, y)
    torch_device = "cuda" if device == "gpu" else "cpu"
    twin = torch_twin(name)
    twin.load_state_dict({k: torch.from_numpy(v) for k, v in model.state_dict().items()})
    twin.to(torch_device)
    tx, ty = torch.from_numpy(x.numpy()).to(torch_device), torch.from_numpy(y.numpy()).to(torch_device)
    t_loss, t_optimizer = getattr(tnn, loss_class.__name__)(), torch.optim.Adam(twin.parameters(), 1e-3)
    return lambda: training_step(twin, t_loss, t_optimizer, tx, ty)


def median_step_ms(step, rounds, steps, warmup=3):
    """Median over ``rounds`` of the mean time of ``steps`` consecutive steps, after warm-up."""
    for _ in range(warmup):
        step()
    times = []
    for _ in range(rounds):
        started = time.perf_counter()
        for _ in range(steps):
            step()
        times.append((time.perf_counter() - started) / steps * 1e3)
    return statistics.median(times)


def torch_epoch_seconds(device="cpu", batch_size=100, lr=1e-3, seed=0) -> float:
    """Seconds of one PyTorch training epoch of paper 000's LSTM, loading excluded. On a GPU the data
    are copied to it once beforehand, as tinynet's DataLoader does, and the model runs on cuDNN."""
    torch_device = "cuda" if device == "gpu" else "cpu"
    train = data.fashion_mnist("train")
    x = torch.from_numpy(train.inputs.astype(np.float32) / 255).to(torch_device)
    y = torch.from_numpy(train.targets.astype(np.int64)).to(torch_device)
    torch.manual_seed(seed)
    model = TorchLSTMClassifier().to(torch_device)
    optimizer, loss_fn = torch.optim.Adam(model.parameters(), lr=lr), tnn.NLLLoss()
    started = time.perf_counter()
    order = torch.from_numpy(np.random.default_rng(seed).permutation(len(y))).to(torch_device)
    loss_sum, correct = 0.0, 0
    for start in range(0, len(y), batch_size):
        index = order[start:start + batch_size]
        output = model(x[index])
        loss = loss_fn(output, y[index])
        optimizer.zero_grad()
        loss.backward()
        optimizer.step()
        loss_sum += loss.item() * len(index)
        correct += int((output.argmax(dim=1) == y[index]).sum())
    return time.perf_counter() - started


def worker(args):
    """Run inside a process of its own; prints one JSON line."""
    if args.worker == "torch-epoch":
        print(json.dumps({"seconds": torch_epoch_seconds(args.device)}))
        return
    step = step_function(args.model[0], args.worker, args.device)
    print(json.dumps({"ms": median_step_ms(step, args.rounds, args.steps)}))


def run_child(command) -> str:
    """Run a measuring process; its standard output, or exit naming the command and showing its error."""
    done = subprocess.run(command, capture_output=True, text=True)
    if done.returncode != 0:
        sys.exit(f"compare_torch.py: {' '.join(command)} failed (exit status {done.returncode}):\n{done.stderr}"
                 f"{done.stdout[-2000:]}")
    return done.stdout


def run_json(command) -> dict:
    return json.loads(run_child(command).strip().splitlines()[-1])


def tinynet_epoch(device) -> tuple:
    """(training-loop seconds, as the example measures them and writes them to history.json, whole
    command's seconds). The example prints the same number rounded to 0.1 s."""
    with tempfile.TemporaryDirectory() as out:
        started = time.perf_counter()
        run_child([sys.executable, EXAMPLE, "--epochs", "1", "--no-progress", "--out", out, "--device", device])
        wall = time.perf_counter() - started
        history = json.loads(next(pathlib.Path(out).rglob("history.json")).read_text())
    return history["epoch"]["seconds"][0], wall


def compare_epochs(repeats, device):
    ours, ours_wall, theirs = [], [], []
    for _ in range(repeats):
        loop, wall = tinynet_epoch(device)
        ours.append(loop)
        ours_wall.append(wall)
        theirs.append(run_json([sys.executable, __file__, "--worker", "torch-epoch", "--device", device])["seconds"])
        print(f"  tinynet epoch {loop:.2f} s (command {wall:.1f} s), PyTorch epoch {theirs[-1]:.2f} s", flush=True)
    loop, wall, reference = statistics.median(ours), statistics.median(ours_wall), statistics.median(theirs)
    print(f"paper 000 epoch, medians of {repeats}: tinynet {loop:.2f} s (whole command {wall:.1f} s), "
          f"PyTorch {reference:.2f} s, ratio {loop / reference:.2f}")


def compare_steps(args):
    print(f"{'model':<10}{'tinynet ms':>12}{'PyTorch ms':>12}{'ratio':>8}")
    for name in args.model:
        if args.mode == "same-process":
            steps = [step_function(name, engine, args.device) for engine in ("tinynet", "torch")]
            times = ([], [])
            for _ in range(args.rounds):
                for step, bucket in zip(steps, times):
                    bucket.append(median_step_ms(step, 1, args.steps, warmup=1 if bucket else 3))
        else:
            times = ([], [])
            for _ in range(args.processes):
                for engine, bucket in zip(("tinynet", "torch"), times):
                    bucket.append(run_json([sys.executable, __file__, "--worker", engine, "--model", name,
                                            "--device", args.device, "--rounds", str(args.rounds),
                                            "--steps", str(args.steps)])["ms"])
        ours, theirs = statistics.median(times[0]), statistics.median(times[1])
        print(f"{name:<10}{ours:>12.2f}{theirs:>12.2f}{ours / theirs:>8.2f}", flush=True)


def main():
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--model", choices=sorted(MODELS), nargs="+", default=["lstm", "cnn_lstm", "lenet5", "mlp"])
    parser.add_argument("--device", default="cpu")
    parser.add_argument("--mode", choices=["alone", "same-process"], default="alone")
    parser.add_argument("--processes", type=int, default=3, help="alone mode: processes per engine and model")
    parser.add_argument("--rounds", type=int, default=7)
    parser.add_argument("--steps", type=int, default=10)
    parser.add_argument("--epoch", action="store_true", help="time paper 000's whole epoch instead of steps")
    parser.add_argument("--repeats", type=int, default=3, help="--epoch: back-to-back epochs per engine")
    parser.add_argument("--worker", choices=["tinynet", "torch", "torch-epoch"], help=argparse.SUPPRESS)
    args = parser.parse_args()
    if args.worker:
        return worker(args)
    print(f"machine: {machine()}, PyTorch {torch.__version__} ({torch.get_num_threads()} threads), "
          f"mode {'epoch' if args.epoch else args.mode}, {time.strftime('%Y-%m-%d')}")
    if args.epoch:
        compare_epochs(args.repeats, args.device)
    else:
        compare_steps(args)


if __name__ == "__main__":
    main()
