"""Training-step time (forward + backward + Adam) and inference throughput of one model.

    python benchmarks/bench_train.py --model lstm --device cpu

The first step (Numba compilation or loading its disk cache, CuPy kernel compilation) is reported
on its own; then ``--warmup`` steps, then the median of ``--rounds`` rounds of ``--steps`` steps.
"""
import argparse
import time

import tinynet as tn
from tinynet import optim

from common import MODELS, batch, machine, median_seconds


def measure(name, device, rounds=5, steps=10, warmup=3, batch_size=None):
    factory, shape, default_batch, loss_class = MODELS[name]
    tn.manual_seed(0)
    model = factory().to(device)
    loss_fn, optimizer = loss_class(), optim.Adam(model.parameters(), lr=1e-3)
    size = batch_size or default_batch
    x, y = batch(shape, size, device)

    def train_step():
        loss = loss_fn(model(x), y)
        optimizer.zero_grad()
        loss.backward()
        optimizer.step()
        loss.item()

    started = time.perf_counter()
    train_step()
    first = time.perf_counter() - started
    for _ in range(warmup):
        train_step()
    step = median_seconds(lambda: [train_step() for _ in range(steps)], rounds, device) / steps
    model.eval()

    def infer():
        with tn.no_grad():
            model(x).numpy()

    inference = median_seconds(lambda: [infer() for _ in range(steps)], rounds, device) / steps
    return {"model": name, "device": device, "batch": size, "first_step_s": first,
            "step_ms": step * 1e3, "inference_samples_per_s": size / inference}


def main():
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--model", choices=sorted(MODELS), nargs="+", default=["lstm"])
    parser.add_argument("--device", default="cpu")
    parser.add_argument("--rounds", type=int, default=5)
    parser.add_argument("--steps", type=int, default=10)
    parser.add_argument("--batch-size", type=int, default=None)
    args = parser.parse_args()
    print(f"machine: {machine()}")
    print(f"{'model':<10}{'device':<8}{'batch':>6}{'first step s':>14}{'step ms':>10}{'infer samples/s':>17}")
    for name in args.model:
        r = measure(name, args.device, args.rounds, args.steps, batch_size=args.batch_size)
        print(f"{r['model']:<10}{r['device']:<8}{r['batch']:>6}{r['first_step_s']:>14.2f}{r['step_ms']:>10.2f}"
              f"{r['inference_samples_per_s']:>17.0f}", flush=True)


if __name__ == "__main__":
    main()
