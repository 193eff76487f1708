"""Paper 004: a two-layer net and a single-conv-layer net, with the paper's sweeps.

    python examples/two_layer_vs_cnn_fmnist.py --model single_conv --filters 32 --kernel-size 2
    python examples/two_layer_vs_cnn_fmnist.py --model two_layer --hidden 5
    python examples/two_layer_vs_cnn_fmnist.py --sweep hidden       # 3..800 hidden units
    python examples/two_layer_vs_cnn_fmnist.py --sweep filters      # 4..64 filters of size 2
    python examples/two_layer_vs_cnn_fmnist.py --sweep kernel       # 32 filters of size 2..8

Adam 0.001 (0.0001 for more than 50 hidden units, as the paper did), batch 32, 15,000 steps for
the two-layer net and 10,000 for the CNN, validation accuracy every 50 steps on 5,000 held-out images.
A sweep writes sweep.json, sweep.md and the accuracy-vs-steps figure into --out.
"""
import os

from matplotlib.figure import Figure

from tinynet import data, nn, optim, viz
from tinynet.io import write_json, write_text
from tinynet.models import single_conv, two_layer

import example_cli  # examples/example_cli.py: flags, data and report shared by the scripts

SWEEPS = {"hidden": [3, 5, 10, 25, 50, 100, 200, 400, 800], "filters": [4, 8, 16, 32, 64], "kernel": [2, 3, 4, 5, 6, 8]}


def train_one(args, model_name, hidden, filters, kernel_size, out):
    args.out = out
    os.makedirs(out, exist_ok=True)
    loaders = example_cli.load_data(args, transform=data.Compose(data.ScaleTo01(), data.AddChannel()),
                                    validation_fraction=5000 / 60000)
    model = (two_layer(hidden) if model_name == "two_layer" else single_conv(filters, kernel_size)).to(args.device)
    lr = args.lr if model_name != "two_layer" or hidden <= 50 else args.lr / 10
    steps = args.steps or (15000 if model_name == "two_layer" else 10000)
    args.epochs = -(-steps // len(loaders[0]))
    size = f"{hidden} hidden" if model_name == "two_layer" else f"{filters}x{kernel_size}"
    title = f"Paper 004: {model_name} {size}"
    history, result = example_cli.run(args, model, nn.CrossEntropyLoss(), optim.Adam(model.parameters(), lr=lr),
                                      loaders, eval_every=50, title=title, max_steps=2 * 5 if args.quick else steps)
    return history, result


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
    p = example_cli.parser(__doc__.splitlines()[0], epochs=1, batch_size=32, lr=1e-3,
                           models=["two_layer", "single_conv"], default_model="single_conv")
    p.add_argument("--hidden", type=int, default=5)
    p.add_argument("--filters", type=int, default=32)
    p.add_argument("--kernel-size", type=int, default=2)
    p.add_argument("--steps", type=int, default=None, help="training steps (default 15000 / 10000)")
    p.add_argument("--sweep", choices=sorted(SWEEPS), default=None)
    args = p.parse_args(argv)
    example_cli.setup(args, "two_layer_vs_cnn_fmnist")
    if args.sweep is None:
        train_one(args, args.model, args.hidden, args.filters, args.kernel_size, args.out)
        return
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
