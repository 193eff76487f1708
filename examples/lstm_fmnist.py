"""Paper 000: an LSTM classifies Fashion-MNIST, reading each image as 28 rows of 28 pixels.

    python examples/lstm_fmnist.py                 # the paper's setting: Adam 1e-3, batch 100, 10 epochs
    python examples/lstm_fmnist.py --device gpu    # on a CUDA GPU (needs CuPy: pip install "tinynet[gpu]")
    python examples/lstm_fmnist.py --quick         # smoke run, a few batches
    python examples/lstm_fmnist.py --cell composed # the cell built from primitive ops (slower, same math)

Paper 000's studies:
    --subset 20000 --subset-by random|loss    training pattern reduction (by loss: after a warm-up
                                              epoch on all patterns, keep the highest-loss ones)
    --prune-threshold 0.1 --retrain-epochs 2  threshold pruning, then retraining with the zeros kept
    --prune-sweep                             thresholds 0.05..0.5: paper 000's Table 3 as .md/.json
    --weights runs/lstm_fmnist/default/weights.npz --epochs 0 --prune-sweep   (prune a trained model)
"""
import os

import numpy as np

from tinynet import data, experiment, nn, optim, prune, viz
from tinynet.models import LSTMClassifier
from tinynet.serialization import write_json, write_text
from tinynet.train import evaluate, fit, time_training_step

SWEEP_THRESHOLDS = (0.05, 0.1, 0.2, 0.3, 0.4, 0.5)


def reduce_by_loss(args, model, optimizer, loaders):
    """Warm up one epoch on all patterns, then keep the args.subset patterns of highest loss."""
    train_loader = loaders[0]
    print(f"warm-up epoch on all {len(train_loader.dataset):,} patterns")
    fit(model, nn.NLLLoss(), optimizer, train_loader, 1, progress=not args.no_progress,
        max_batches=5 if args.quick else None)
    ordered = experiment.loader(args, train_loader.dataset, train_loader.transform, batch_size=1000)
    log_probs = evaluate(model, ordered)["scores"]  # the model outputs log-probabilities
    losses = -log_probs[np.arange(len(log_probs)), train_loader.dataset.targets]
    reduced = data.subset_by_loss(train_loader.dataset, losses, args.subset, args.hard_fraction, args.seed)
    print(f"kept the {args.subset:,} patterns of highest loss (hard fraction {args.hard_fraction})")
    args.epochs -= 1
    return (experiment.loader(args, reduced, train_loader.transform, shuffle=True),) + loaders[1:]


def prune_study(args, model, loaders, thresholds):
    """For each threshold: prune the trained model, test, retrain with the zeros kept, test again."""
    train_loader, _, test_loader, _ = loaders
    dense_state, loss_fn = model.state_dict(), nn.NLLLoss()
    dense_accuracy = evaluate(model, test_loader)["accuracy"]
    x, y = next(iter(train_loader))
    rows, weights_before = [], np.concatenate([p.numpy().ravel() for _, p in prune.prunable(model)])
    for threshold in thresholds:
        model.load_state_dict(dense_state)  # a copy: dense_state itself never changes
        dense_timing = time_training_step(model, loss_fn, optim.Adam(model.parameters(), args.lr), x, y)
        model.load_state_dict(dense_state)
        report = prune.by_threshold(model, threshold)
        pruned_accuracy = evaluate(model, test_loader)["accuracy"]
        optimizer = optim.Adam(model.parameters(), lr=args.lr)
        fit(model, loss_fn, optimizer, train_loader, args.retrain_epochs, progress=not args.no_progress,
            max_batches=5 if args.quick else None)
        retrained_accuracy = evaluate(model, test_loader)["accuracy"]
        pruned_state = model.state_dict()
        pruned_timing = time_training_step(model, loss_fn, optim.Adam(model.parameters(), args.lr), x, y)
        model.load_state_dict(pruned_state)
        rows.append({"threshold": threshold, "sparsity": report["total"]["sparsity"], "accuracy_dense": dense_accuracy,
                     "accuracy_pruned": pruned_accuracy, "accuracy_retrained": retrained_accuracy,
                     "update_ms_dense": dense_timing["update_ms"], "update_ms_pruned": pruned_timing["update_ms"],
                     "step_ms_dense": dense_timing["step_ms"], "step_ms_pruned": pruned_timing["step_ms"]})
        print(prune.format_report(report))
        print(f"threshold {threshold}: accuracy {dense_accuracy:.4f} dense, {pruned_accuracy:.4f} pruned, "
              f"{retrained_accuracy:.4f} after {args.retrain_epochs} retraining epochs")
        viz.plot_weight_distribution(
            {"before pruning": weights_before,
             f"after pruning at {threshold} and retraining": np.concatenate(
                 [p.numpy().ravel() for _, p in prune.prunable(model)])},
            os.path.join(args.out, f"weights_kde_{threshold}.png"), "LSTM classifier weights")
    table = ["| threshold | sparsity | accuracy before | after pruning | after retraining | update ms dense | "
             "update ms pruned | step ms dense | step ms pruned |", "|---" * 9 + "|"]
    table += [f"| {r['threshold']} | {r['sparsity']:.1%} | {r['accuracy_dense']:.2%} | {r['accuracy_pruned']:.2%} | "
              f"{r['accuracy_retrained']:.2%} | {r['update_ms_dense']:.3f} | {r['update_ms_pruned']:.3f} | "
              f"{r['step_ms_dense']:.1f} | {r['step_ms_pruned']:.1f} |" for r in rows]
    write_text("\n".join(table) + "\n", os.path.join(args.out, "prune_table.md"))
    write_json(rows, os.path.join(args.out, "prune_table.json"))
    print("\n".join(table))


def main(argv=None):
    p = experiment.parser(__doc__.splitlines()[0], epochs=10, batch_size=100, lr=1e-3)
    p.add_argument("--subset-by", choices=["random", "loss"], default="random")
    p.add_argument("--hard-fraction", type=float, default=1.0,
                   help="with --subset-by loss: share of the subset taken by highest loss (the rest random)")
    p.add_argument("--prune-threshold", type=float, default=None)
    p.add_argument("--prune-sweep", action="store_true", help=f"prune at {SWEEP_THRESHOLDS}")
    p.add_argument("--retrain-epochs", type=int, default=2)
    p.add_argument("--weights", default=None, help="start from this state dict (.npz)")
    p.add_argument("--cell", choices=["fused", "composed"], default="fused",
                   help="the fused LSTM Function, or the cell composed of primitive ops (nn.LSTM(fused=False))")
    args = p.parse_args(argv)
    if not 0 <= args.hard_fraction <= 1:
        experiment.fail(f"--hard-fraction must be in [0, 1], got {args.hard_fraction}")
    if args.retrain_epochs < 0:
        experiment.fail(f"--retrain-epochs must be >= 0, got {args.retrain_epochs}")
    if args.prune_threshold is not None and not args.prune_threshold >= 0:
        experiment.fail(f"--prune-threshold must be a number >= 0, got {args.prune_threshold}")
    experiment.setup(args, "lstm_fmnist")
    by_loss = args.subset and args.subset_by == "loss"
    subset, args.subset = args.subset, None if by_loss else args.subset
    loaders = experiment.load_data(args, transform=data.ScaleTo01())
    args.subset = subset
    model = LSTMClassifier(fused=args.cell == "fused")
    if args.weights:
        experiment.load_weights(model, args.weights)
    model.to(args.device)
    optimizer = optim.Adam(model.parameters(), lr=args.lr)
    if by_loss:
        loaders = reduce_by_loss(args, model, optimizer, loaders)
    experiment.run(args, model, nn.NLLLoss(), optimizer, loaders,
                   title="Paper 000: LSTM(28, 64, 2 layers) on Fashion-MNIST")
    thresholds = SWEEP_THRESHOLDS if args.prune_sweep else (
        (args.prune_threshold,) if args.prune_threshold is not None else ())
    if thresholds:
        prune_study(args, model, loaders, thresholds)


if __name__ == "__main__":
    main()
