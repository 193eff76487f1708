"""Paper 004: a two-layer net and a single-conv-layer net, with the paper's sweeps.

    python examples/two_layer_vs_cnn_fmnist.py --model single_conv --filters 32 --kernel-size 2
    python examples/two_layer_vs_cnn_fmnist.py --model two_layer --hidden 5

The paper's sweeps (hidden units, filters, kernel size) are examples/two_layer_vs_cnn_sweeps.py.

Adam 0.001 (0.0001 for more than 50 hidden units, as the paper did), batch 32, 15,000 steps for
the two-layer net and 10,000 for the CNN, validation accuracy every 50 steps on 5,000 held-out images.
"""
import os

from tinynet import data, nn, optim
from tinynet.models import single_conv, two_layer

import example_cli  # examples/example_cli.py: flags, data and report shared by the scripts


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


def parser():
    """The flags of this script (and of the sweeps, which add theirs)."""
    p = example_cli.parser(__doc__.splitlines()[0], epochs=1, batch_size=32, lr=1e-3,
                           models=["two_layer", "single_conv"], default_model="single_conv")
    p.add_argument("--hidden", type=int, default=5)
    p.add_argument("--filters", type=int, default=32)
    p.add_argument("--kernel-size", type=int, default=2)
    p.add_argument("--steps", type=int, default=None, help="training steps (default 15000 / 10000)")
    return p


def main(argv=None):
    args = parser().parse_args(argv)
    example_cli.setup(args, "two_layer_vs_cnn_fmnist")
    train_one(args, args.model, args.hidden, args.filters, args.kernel_size, args.out)


if __name__ == "__main__":
    main()
