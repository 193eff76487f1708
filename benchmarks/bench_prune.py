"""Cost of pruning: the optimizer step and the whole training step of a pruned model against the
dense one (same weights, same batch), alternating rounds in one process.

    python benchmarks/bench_prune.py --model lstm --fraction 0.5
"""
import argparse
import statistics

import tinynet as tn
from tinynet import optim, prune
from tinynet.debug import time_training_step

from common import MODELS, batch, machine


def main():
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--model", choices=sorted(MODELS), default="lstm")
    parser.add_argument("--fraction", type=float, default=0.5, help="share of prunable weights set to zero")
    parser.add_argument("--device", default="cpu")
    parser.add_argument("--rounds", type=int, default=7)
    args = parser.parse_args()
    factory, shape, size, loss_class = MODELS[args.model]
    tn.manual_seed(0)
    dense = factory().to(args.device)
    pruned = factory().to(args.device)
    pruned.load_state_dict(dense.state_dict())
    report = prune.by_fraction(pruned, args.fraction, scope="layer")
    x, y = batch(shape, size, args.device)
    loss_fn = loss_class()
    timings = {"dense": [], "pruned": []}
    optimizers = {"dense": optim.Adam(dense.parameters()), "pruned": optim.Adam(pruned.parameters())}
    for _ in range(args.rounds):
        for name, model in (("dense", dense), ("pruned", pruned)):
            timings[name].append(time_training_step(model, loss_fn, optimizers[name], x, y, repeats=20))
    print(f"machine: {machine()}")
    print(f"model {args.model}, batch {size}, {report['total']['sparsity']:.0%} of prunable weights pruned")
    medians = {name: {key: statistics.median(t[key] for t in runs) for key in ("update_ms", "step_ms")}
               for name, runs in timings.items()}
    for key, label in (("update_ms", "optimizer step"), ("step_ms", "training step")):
        ratio = medians["pruned"][key] / medians["dense"][key]
        print(f"{label:<15} dense {medians['dense'][key]:8.3f} ms   pruned {medians['pruned'][key]:8.3f} ms   "
              f"ratio {ratio:.2f}")
    assert all(float(abs(p.data[p.mask == 0]).max(initial=0)) == 0 for _, p in prune.prunable(pruned))


if __name__ == "__main__":
    main()
