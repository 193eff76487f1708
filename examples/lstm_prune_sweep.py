"""Paper 000's pruning study (its Table 3): prune a trained LSTM classifier at each threshold, test,
retrain with the pruned weights held at zero, test again.

    python examples/lstm_fmnist.py                                   # train the dense model first
    python examples/lstm_prune_sweep.py --weights runs/lstm_fmnist/default/weights.npz --epochs 2
    python examples/lstm_prune_sweep.py --thresholds 0.1 --epochs 10

Every threshold starts from the same dense weights (load_state_dict copies them in). --epochs is
the number of retraining epochs per threshold. Writes prune_table.md / .json and, per threshold, a
KDE figure of the weights before pruning and after retraining into --out.
"""
import os

import numpy as np

from tinynet import data, nn, optim, prune, viz
from tinynet.debug import time_training_step
from tinynet.io import write_json, write_text
from tinynet.models import LSTMClassifier
from tinynet.train import evaluate, fit

import example_cli  # examples/example_cli.py: flags, data and report shared by the scripts

PAPER_THRESHOLDS = (0.05, 0.1, 0.2, 0.3, 0.4, 0.5)


def prune_and_retrain(model, dense_state, threshold, train_loader, test_loader, timing_batch, args):
    """One row of the table: prune the dense model at ``threshold``, test, retrain, test again."""
    loss_fn = nn.NLLLoss()
    x, y = timing_batch
    model.load_state_dict(dense_state)  # a copy: dense_state itself never changes
    dense_timing = time_training_step(model, loss_fn, optim.Adam(model.parameters(), args.lr), x, y)
    model.load_state_dict(dense_state)
    report = prune.by_threshold(model, threshold)  # |w| < threshold -> 0, and a mask keeps it there
    pruned_accuracy = evaluate(model, test_loader)["accuracy"]
    fit(model, loss_fn, optim.Adam(model.parameters(), lr=args.lr), train_loader, args.epochs,
        progress=not args.no_progress, max_batches=5 if args.quick else None)
    retrained_accuracy = evaluate(model, test_loader)["accuracy"]
    pruned_state = model.state_dict()  # holds the masks too
    pruned_timing = time_training_step(model, loss_fn, optim.Adam(model.parameters(), args.lr), x, y)
    model.load_state_dict(pruned_state)
    print(prune.format_report(report))
    print(f"threshold {threshold}: {pruned_accuracy:.4f} pruned, {retrained_accuracy:.4f} after "
          f"{args.epochs} retraining epochs")
    return {"threshold": threshold, "sparsity": report["total"]["sparsity"], "accuracy_pruned": pruned_accuracy,
            "accuracy_retrained": retrained_accuracy, "update_ms_dense": dense_timing["update_ms"],
            "update_ms_pruned": pruned_timing["update_ms"], "step_ms_dense": dense_timing["step_ms"],
            "step_ms_pruned": pruned_timing["step_ms"]}


def write_table(rows, dense_accuracy, out):
    table = [f"Dense model: {dense_accuracy:.2%} test accuracy.", "",
             "| threshold | sparsity | after pruning | after retraining | update ms dense | update ms pruned | "
             "step ms dense | step ms pruned |", "|---" * 8 + "|"]
    table += [f"| {r['threshold']} | {r['sparsity']:.1%} | {r['accuracy_pruned']:.2%} | "
              f"{r['accuracy_retrained']:.2%} | {r['update_ms_dense']:.3f} | {r['update_ms_pruned']:.3f} | "
              f"{r['step_ms_dense']:.1f} | {r['step_ms_pruned']:.1f} |" for r in rows]
    write_text("\n".join(table) + "\n", os.path.join(out, "prune_table.md"))
    write_json({"dense_accuracy": dense_accuracy, "rows": rows}, os.path.join(out, "prune_table.json"))
    print("\n".join(table))


def main(argv=None):
    p = example_cli.parser(__doc__.splitlines()[0], epochs=2, batch_size=100, lr=1e-3)
    p.add_argument("--weights", default=os.path.join("runs", "lstm_fmnist", "default", "weights.npz"),
                   help="the trained dense model (python examples/lstm_fmnist.py writes it)")
    p.add_argument("--thresholds", type=float, nargs="+", default=list(PAPER_THRESHOLDS))
    args = p.parse_args(argv)
    if any(not threshold >= 0 for threshold in args.thresholds):
        example_cli.fail(f"--thresholds must be numbers >= 0, got {args.thresholds}")
    epochs = args.epochs
    example_cli.setup(args, "lstm_prune_sweep")
    args.epochs = epochs  # --quick shortens the retraining through max_batches, not the epochs
    train_loader, _, test_loader, _ = example_cli.load_data(args, transform=data.ScaleTo01())
    model = LSTMClassifier()
    example_cli.load_weights(model, args.weights)
    model.to(args.device)
    dense_state, dense_accuracy = model.state_dict(), evaluate(model, test_loader)["accuracy"]
    weights_before = np.concatenate([p.numpy().ravel() for _, p in prune.prunable(model)])
    rows, timing_batch = [], next(iter(train_loader))
    for threshold in args.thresholds:
        rows.append(prune_and_retrain(model, dense_state, threshold, train_loader, test_loader, timing_batch, args))
        weights_after = np.concatenate([p.numpy().ravel() for _, p in prune.prunable(model)])
        viz.plot_weight_distribution(
            {"before pruning": weights_before, f"after pruning at {threshold} and retraining": weights_after},
            os.path.join(args.out, f"weights_kde_{threshold}.png"), "LSTM classifier weights")
    write_table(rows, dense_accuracy, args.out)


if __name__ == "__main__":
    main()
