"""Paper 004's sweeps: the two-layer net's hidden units, and the single-conv net's number and size
of filters, each trained as examples/two_layer_vs_cnn_fmnist.py trains one model.

    python examples/two_layer_vs_cnn_sweeps.py hidden       # 3..800 hidden units
    python examples/two_layer_vs_cnn_sweeps.py filters      # 4..64 filters of size 2
    python examples/two_layer_vs_cnn_sweeps.py kernel       # 32 filters of size 2..8

Writes one run folder per value, and sweep.json, sweep.md and the accuracy-vs-steps figure, into --out.
"""
import os

from matplotlib.figure import Figure
from two_layer_vs_cnn_fmnist import parser, train_one

from tinynet import viz
from tinynet.io import write_json, write_text

import example_cli  # examples/example_cli.py: flags, data and report shared by the scripts

SWEEPS = {"hidden": [3, 5, 10, 25, 50, 100, 200, 400, 800], "filters": [4, 8, 16, 32, 64], "kernel": [2, 3, 4, 5, 6, 8]}


def plot_sweep(runs, path, title):
    figure = Figure(figsize=(8, 4))
    ax = figure.subplots()
    for label, history in runs:
        ax.plot(history["steps"]["step"], history["steps"]["val_accuracy"], label=label)
    ax.set_xlabel("training step")
    ax.set_ylabel("validation accuracy")
    ax.legend(fontsize=7)
    ax.set_title(title)
    return viz.save_figure(figure, path)


def main(argv=None):
    p = parser()
    p.description = __doc__.splitlines()[0]
    p.add_argument("sweep", choices=sorted(SWEEPS))
    args = p.parse_args(argv)
    example_cli.setup(args, "two_layer_vs_cnn_fmnist", run_name=f"sweep_{args.sweep}")
    root, rows, runs = args.out, [], []
    model_name = "two_layer" if args.sweep == "hidden" else "single_conv"
    for value in SWEEPS[args.sweep]:
        settings = {"hidden": args.hidden, "filters": args.filters, "kernel_size": args.kernel_size}
        settings[{"hidden": "hidden", "filters": "filters", "kernel": "kernel_size"}[args.sweep]] = value
        history, result = train_one(args, model_name, settings["hidden"], settings["filters"],
                                    settings["kernel_size"], os.path.join(root, f"{args.sweep}_{value}"))
        rows.append({args.sweep: value, "test_accuracy": result["accuracy"],
                     "best_val_accuracy": max(history["steps"]["val_accuracy"] or [0])})
        runs.append((f"{args.sweep}={value}", history))
    write_json(rows, os.path.join(root, "sweep.json"))
    table = [f"| {args.sweep} | test accuracy | best validation accuracy |", "|---|---|---|"]
    table += [f"| {r[args.sweep]} | {r['test_accuracy']:.4f} | {r['best_val_accuracy']:.4f} |" for r in rows]
    write_text("\n".join(table) + "\n", os.path.join(root, "sweep.md"))
    plot_sweep(runs, os.path.join(root, "accuracy_vs_steps.png"), f"Paper 004: sweep over {args.sweep}")
    print("\n".join(table))


if __name__ == "__main__":
    main()
