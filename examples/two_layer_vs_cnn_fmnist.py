"""Paper 004: a two-layer net and a single-conv-layer net, with the paper's sweeps.

    python examples/two_layer_vs_cnn_fmnist.py --model single_conv --filters 32 --kernel-size 2
    python examples/two_layer_vs_cnn_fmnist.py --model two_layer --hidden 5

The paper's sweeps (hidden units, filters, kernel size) are examples/two_layer_vs_cnn_sweeps.py.

Adam 0.001 (0.0001 for more than 50 hidden units, as the paper did), batch 32, 15,000 steps for
the two-layer net and 10,000 for the CNN, validation accuracy every 50 steps on 5,000 held-out images.

The paper counts optimizer steps, not epochs: ``train_steps`` runs train_one_epoch (tinynet/train.py:
for every batch forward, loss, zero_grad, backward, step) until the step budget is spent, with a
validation every 50 steps.
"""
import os
import time

from tinynet import data, nn, optim
from tinynet.models import single_conv, two_layer
from tinynet.train import evaluate, new_history, record_validation, train_one_epoch

import example_cli  # examples/example_cli.py: flags, data and report shared by the scripts

EVAL_EVERY = 50  # steps between validations


def train_steps(args, model, loss_fn, optimizer, train_loader, val_loader, steps):
    """Train for ``steps`` optimizer steps (passes over the data as needed); returns the history."""
    history, step = new_history(), 0

    def after_step(*_):  # train_one_epoch calls this after every step; True ends the epoch early
        nonlocal step
        step += 1
        if step % EVAL_EVERY == 0:
            record_validation(history, step, evaluate(model, val_loader, loss_fn))
        return step == steps

    for epoch in range(1, args.epochs + 1):
        done = train_one_epoch(model, loss_fn, optimizer, train_loader, example_cli.max_batches(args), after_step,
                               example_cli.progress(args, train_loader, epoch))
        example_cli.end_epoch(args, history, epoch, done)
    return history


def train_one(args, model_name, hidden, filters, kernel_size, out):
    """Train one model of the paper and write its report into ``out``; returns (history, test result)."""
    if args.steps is not None and args.steps < 1:
        example_cli.fail(f"--steps must be >= 1 optimizer steps (leave it out for the paper's), got {args.steps}")
    args.out = out
    os.makedirs(out, exist_ok=True)
    train_loader, val_loader, test_loader, test_set = example_cli.load_data(
        args, transform=data.Compose(data.ScaleTo01(), data.AddChannel()), validation_fraction=5000 / 60000)
    model = (two_layer(hidden) if model_name == "two_layer" else single_conv(filters, kernel_size)).to(args.device)
    lr = args.lr if model_name != "two_layer" or hidden <= 50 else args.lr / 10
    steps = 2 * 5 if args.quick else args.steps or (15000 if model_name == "two_layer" else 10000)
    args.epochs = -(-steps // example_cli.batches_per_epoch(args, train_loader))
    loss_fn = nn.CrossEntropyLoss()
    size = f"{hidden} hidden" if model_name == "two_layer" else f"{filters}x{kernel_size}"
    title = f"Paper 004: {model_name} {size}"
    example_cli.announce(args, model, train_loader, title)

    started = time.perf_counter()
    history = train_steps(args, model, loss_fn, optim.Adam(model.parameters(), lr=lr), train_loader, val_loader, steps)
    result = evaluate(model, test_loader, loss_fn)
    example_cli.report(args, model, history, result, test_set, time.perf_counter() - started, title)
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
