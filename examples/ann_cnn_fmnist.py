"""Paper 002: three ANNs and three CNNs (Keras settings) on Fashion-MNIST.

    python examples/ann_cnn_fmnist.py --model cnn1                  # Adam, batch 32, 50 epochs, flips
    python examples/ann_cnn_fmnist.py --model ann1 --epochs 1000    # the paper's 1000 epochs (slow)
    python examples/ann_cnn_fmnist.py --model ann1 --dropout 0.2 --epochs 60   # with dropout (not in the paper)
    python examples/ann_cnn_fmnist.py --model ann1 --dropout 0.2 --flip        # and flipped images, as the CNNs

Settings from the paper (Keras defaults where it names only the optimizer):
  ann1: RMSprop (lr 0.001, rho 0.9, eps 1e-7 inside the root), batch 100, validation split 0.33
  ann2: SGD lr 0.025, batch 200, validation split 0.33          ann3: Adam 0.001, batch 50, 100 epochs
  cnn1: Adam 0.001   cnn2: SGD 0.01 + unit_norm kernels   cnn3: RMSprop (Keras)   all: batch 32,
  50 epochs, validation split 0.2, random horizontal flips (no rotations or shifts).
ANN 1 and 2 trained 1000 epochs in the paper; the default here is 30 (see the README for timings).

The loop in ``main``: each epoch, train_one_epoch (tinynet/train.py: for every batch forward, loss,
zero_grad, backward, step), then the held-out validation set, as Keras' validation_split does.
"""
import argparse
import time

from tinynet import data, nn, optim
from tinynet.models import ann, cnn
from tinynet.models.ann_cnn import ANN_WIDTHS
from tinynet.train import evaluate, new_history, train_one_epoch

import example_cli  # examples/example_cli.py: flags, data and report shared by the scripts

SETTINGS = {  # optimizer, lr, batch size, epochs, validation fraction
    "ann1": ("rmsprop", 0.001, 100, 30, 0.33), "ann2": ("sgd", 0.025, 200, 30, 0.33),
    "ann3": ("adam", 0.001, 50, 100, 0.33), "cnn1": ("adam", 0.001, 32, 50, 0.2),
    "cnn2": ("sgd", 0.01, 32, 50, 0.2), "cnn3": ("rmsprop", 0.001, 32, 50, 0.2),
}


def make_optimizer(kind, parameters, lr):
    if kind == "rmsprop":  # Keras' RMSprop: rho 0.9, epsilon 1e-7 inside the square root
        return optim.RMSprop(parameters, lr=lr, alpha=0.9, eps=1e-7, eps_inside_sqrt=True)
    if kind == "sgd":
        return optim.SGD(parameters, lr=lr)
    return optim.Adam(parameters, lr=lr, eps=1e-7)  # Keras' Adam epsilon


def main(argv=None):
    pre = argparse.ArgumentParser(add_help=False)
    pre.add_argument("--model", default="cnn1", choices=sorted(SETTINGS))
    kind, lr, batch, epochs, val = SETTINGS[pre.parse_known_args(argv)[0].model]
    p = example_cli.parser(__doc__.splitlines()[0], epochs=epochs, batch_size=batch, lr=lr,
                           models=sorted(SETTINGS), default_model="cnn1")
    p.add_argument("--dropout", type=float, default=None,
                   help="dropout rate (ANNs: after every hidden layer, not in the paper; CNNs: default 0.2)")
    p.add_argument("--flip", action=argparse.BooleanOptionalAction, default=None,
                   help="random horizontal flips of the training images (default: on for the CNNs, as in the "
                        "paper; off for the ANNs)")
    p.add_argument("--widths", type=int, nargs="+", default=None, metavar="UNITS",
                   help="ANNs: the hidden layers' sizes, which the paper leaves open (when left out: "
                        + "; ".join(f"{k} {' '.join(map(str, v))}" for k, v in ANN_WIDTHS.items()) + ")")
    args = p.parse_args(argv)
    if args.widths is not None and (args.model.startswith("cnn") or min(args.widths) < 1):
        example_cli.fail(f"--widths takes hidden layer sizes >= 1 for an ANN model, got {args.widths} "
                         f"for --model {args.model}")
    if args.dropout is not None and not 0 <= args.dropout < 1:
        example_cli.fail(f"--dropout must be in [0, 1), got {args.dropout}")
    example_cli.setup(args, "ann_cnn_fmnist")
    is_cnn = args.model.startswith("cnn")
    augment = [data.RandomHorizontalFlip()] if (is_cnn if args.flip is None else args.flip) else []
    train_loader, val_loader, test_loader, test_set = example_cli.load_data(
        args, transform=data.Compose(data.ScaleTo01(), data.AddChannel(), *augment),
        test_transform=data.Compose(data.ScaleTo01(), data.AddChannel()), validation_fraction=val)
    if is_cnn:
        model = cnn(args.model) if args.dropout is None else cnn(args.model, args.dropout)
    else:
        model = ann(args.model, args.dropout or 0.0, args.widths)
    model.to(args.device)  # before the optimizer takes the parameters
    optimizer = make_optimizer(kind, model.parameters(), args.lr)  # CNN 2's unit norm: an optimizer hook
    loss_fn = nn.CrossEntropyLoss()
    title = f"Paper 002: {args.model.upper()}"
    example_cli.announce(args, model, train_loader, title)

    history, started = new_history(), time.perf_counter()
    for epoch in range(1, args.epochs + 1):
        done = train_one_epoch(model, loss_fn, optimizer, train_loader, example_cli.max_batches(args),
                               progress=example_cli.progress(args, train_loader, epoch))
        example_cli.end_epoch(args, history, epoch, done, evaluate(model, val_loader, loss_fn))

    result = evaluate(model, test_loader, loss_fn)
    example_cli.report(args, model, history, result, test_set, time.perf_counter() - started, title)


if __name__ == "__main__":
    main()
