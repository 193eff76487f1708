"""tinynet against PyTorch on the same models, weights and batches, in one process.

    pip install torch            # optional: only this script needs it
    python benchmarks/compare_torch.py --model lstm cnn_lstm lenet5 conv2bn mlp

Rounds alternate tinynet / PyTorch so machine drift hits both; printed: median training-step time
(forward + backward + Adam) of each and the ratio tinynet / PyTorch. The PyTorch twins have the
same parameter names and shapes, so they start from tinynet's weights (load_state_dict by name).
"""
import argparse
import statistics
import sys
import time

from common import MODELS, batch, machine

import tinynet as tn
from tinynet import optim

try:
    import torch
    from torch import nn as tnn
except ImportError:
    sys.exit("compare_torch.py needs PyTorch: pip install torch (CPU build: pip install torch==2.13.0 "
             "--index-url https://download.pytorch.org/whl/cpu)")


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


def step_timers(name, device):
    factory, shape, size, loss_class = MODELS[name]
    tn.manual_seed(0)
    model = factory().to(device)
    twin = torch_twin(name)
    twin.load_state_dict({k: torch.from_numpy(v) for k, v in model.state_dict().items()})
    torch_device = "cuda" if device == "gpu" else "cpu"
    twin.to(torch_device)
    x, y = batch(shape, size, device)
    tx, ty = torch.from_numpy(x.numpy()).to(torch_device), torch.from_numpy(y.numpy()).to(torch_device)
    loss_fn, t_loss = loss_class(), getattr(tnn, loss_class.__name__)()
    optimizer, t_optimizer = optim.Adam(model.parameters(), 1e-3), torch.optim.Adam(twin.parameters(), 1e-3)

    def tinynet_step():
        loss = loss_fn(model(x), y)
        optimizer.zero_grad()
        loss.backward()
        optimizer.step()
        loss.item()

    def torch_step():
        loss = t_loss(twin(tx), ty)
        t_optimizer.zero_grad()
        loss.backward()
        t_optimizer.step()
        loss.item()

    return tinynet_step, torch_step


def main():
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--model", choices=sorted(MODELS), nargs="+", default=["lstm", "cnn_lstm", "lenet5", "mlp"])
    parser.add_argument("--device", default="cpu")
    parser.add_argument("--rounds", type=int, default=7)
    parser.add_argument("--steps", type=int, default=10)
    args = parser.parse_args()
    print(f"machine: {machine()}, PyTorch {torch.__version__} ({torch.get_num_threads()} threads)")
    print(f"{'model':<10}{'tinynet ms':>12}{'PyTorch ms':>12}{'ratio':>8}")
    for name in args.model:
        steps = step_timers(name, args.device)
        times = ([], [])
        for fn in steps:  # warm-up, compilation included
            for _ in range(3):
                fn()
        for _ in range(args.rounds):
            for fn, bucket in zip(steps, times):
                started = time.perf_counter()
                for _ in range(args.steps):
                    fn()
                bucket.append((time.perf_counter() - started) / args.steps * 1e3)
        ours, theirs = statistics.median(times[0]), statistics.median(times[1])
        print(f"{name:<10}{ours:>12.2f}{theirs:>12.2f}{ours / theirs:>8.2f}", flush=True)


if __name__ == "__main__":
    main()
