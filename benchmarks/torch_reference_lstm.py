"""Paper 000's LSTM trained by PyTorch with the paper's setting, over several seeds: the reference
for the accuracy of `python examples/lstm_fmnist.py --seed S`.

    pip install torch            # optional: only the comparison scripts need it
    python benchmarks/torch_reference_lstm.py --seeds 0 1 2 3 4

Same data (tinynet.data.fashion_mnist, pixels / 255), the same model as compare_torch.py
(LSTM(28, 64, 2 layers) -> Linear(64, 10) -> LogSoftmax, PyTorch's own initialisation), NLL loss,
Adam 1e-3, batch 100, 10 epochs, reshuffled every epoch. Prints each seed's test accuracy and the
mean, min and max, so a single tinynet run can be placed in PyTorch's spread.
"""
import argparse
import statistics
import time

import numpy as np
from compare_torch import TorchLSTMClassifier, torch

from tinynet import data

from common import machine


def as_tensors(dataset):
    return torch.from_numpy(dataset.inputs.astype(np.float32) / 255), torch.from_numpy(dataset.targets.astype(np.int64))


def train_and_test(seed, train, test, epochs, batch_size, lr) -> float:
    """Test accuracy of one PyTorch run with the given seed."""
    torch.manual_seed(seed)
    order_rng = np.random.default_rng(seed)
    model = TorchLSTMClassifier()
    optimizer, loss_fn = torch.optim.Adam(model.parameters(), lr=lr), torch.nn.NLLLoss()
    x, y = train
    for _ in range(epochs):
        order = torch.from_numpy(order_rng.permutation(len(y)))
        for start in range(0, len(y), batch_size):
            index = order[start:start + batch_size]
            loss = loss_fn(model(x[index]), y[index])
            optimizer.zero_grad()
            loss.backward()
            optimizer.step()
    with torch.no_grad():
        predictions = model(test[0]).argmax(dim=1)
    return float((predictions == test[1]).double().mean())


def main():
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--seeds", type=int, nargs="+", default=[0, 1, 2, 3, 4])
    parser.add_argument("--epochs", type=int, default=10)
    parser.add_argument("--batch-size", type=int, default=100)
    parser.add_argument("--lr", type=float, default=1e-3)
    args = parser.parse_args()
    train, test = as_tensors(data.fashion_mnist("train")), as_tensors(data.fashion_mnist("test"))
    print(f"machine: {machine()}, PyTorch {torch.__version__} ({torch.get_num_threads()} threads)")
    accuracies = []
    for seed in args.seeds:
        started = time.perf_counter()
        accuracies.append(train_and_test(seed, train, test, args.epochs, args.batch_size, args.lr))
        print(f"seed {seed}: test accuracy {accuracies[-1] * 100:.2f}% ({time.perf_counter() - started:.0f} s)",
              flush=True)
    print(f"PyTorch over {len(accuracies)} seeds: mean {statistics.mean(accuracies) * 100:.2f}%, "
          f"min {min(accuracies) * 100:.2f}%, max {max(accuracies) * 100:.2f}%")


if __name__ == "__main__":
    main()
