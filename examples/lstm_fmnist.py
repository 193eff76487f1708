"""Paper 000: an LSTM classifies Fashion-MNIST, reading each image as 28 rows of 28 pixels.

    python examples/lstm_fmnist.py                 # the paper's setting: Adam 1e-3, batch 100, 10 epochs
    python examples/lstm_fmnist.py --device gpu    # on a CUDA GPU (needs CuPy: pip install "tinynet[gpu]")
    python examples/lstm_fmnist.py --quick         # smoke run, a few batches
    python examples/lstm_fmnist.py --cell composed # the cell built from primitive ops (slower, same math)
    python examples/lstm_fmnist.py --lr 0.002 --epochs 20 --lr-step 8 --lr-gamma 0.2   # a longer recipe

Read it top to bottom: the model comes from tinynet.models, ``train_one_epoch`` is the training loop
(forward, loss, zero_grad, backward, step), ``evaluate`` measures, ``main`` puts them together. The
flags, the data preparation and the report (per-class table, history.json, metrics.json, weights,
figures) come from examples/example_cli.py, shared by every paper's script.

Paper 000's studies have scripts of their own: lstm_prune_sweep.py (threshold pruning, its Table 3)
and lstm_pattern_reduction.py (training on fewer patterns).
"""
import math
import time

from tinynet import data, nn, optim
from tinynet.models import LSTMClassifier
from tinynet.train import EpochTotals, evaluate, new_history

import example_cli  # examples/example_cli.py: flags, data and report shared by the scripts


def train_one_epoch(model, loader, loss_fn, optimizer, bar, max_batches=None):
    """One pass over the training batches; returns the epoch's numbers (as tinynet.train.train_one_epoch)."""
    model.train()  # dropout and batch norm (none here) behave as in training
    totals, non_finite = EpochTotals(), None  # running loss and accuracy, per step too
    for index, (x, y) in enumerate(loader):
        if index == max_batches:
            break
        log_probs = model(x)               # forward: (100, 28, 28) -> (100, 10), recording the graph
        loss = loss_fn(log_probs, y)       # mean negative log-likelihood of the right classes
        loss_value = loss.item()           # a Python float (on a GPU: a wait for the device)
        if not math.isfinite(loss_value):
            non_finite = (index, loss_value)  # diverged: stop before this step changes the weights
            break
        optimizer.zero_grad()              # forget the previous batch's gradients
        loss.backward()                    # d loss / d parameter, for every parameter
        optimizer.step()                   # Adam moves every parameter against its gradient
        right = (log_probs.argmax(axis=1) == y).sum()  # right predictions, counted where the data is
        totals.add(loss_value, right, len(y))          # kept there until the bar draws (a GPU: no second wait)
        bar.update(totals)                 # the progress bar, on a terminal
    bar.close()
    return totals.result(non_finite)


def main(argv=None):
    p = example_cli.parser(__doc__.splitlines()[0], epochs=10, batch_size=100, lr=1e-3)
    p.add_argument("--cell", choices=["fused", "composed"], default="fused",
                   help="the fused LSTM Function, or the cell composed of primitive ops (nn.LSTM(fused=False))")
    p.add_argument("--weights", default=None, help="start from this state dict (.npz)")
    p.add_argument("--lr-step", type=int, default=None, help="multiply the learning rate by --lr-gamma every N epochs")
    p.add_argument("--lr-gamma", type=float, default=0.1)
    args = p.parse_args(argv)
    if args.lr_step is not None and (args.lr_step < 1 or not 0 < args.lr_gamma < float("inf")):
        example_cli.fail(f"--lr-step must be >= 1 and --lr-gamma a finite number > 0, got {args.lr_step}, "
                         f"{args.lr_gamma}")
    example_cli.setup(args, "lstm_fmnist")
    train_loader, _, test_loader, test_set = example_cli.load_data(args, transform=data.ScaleTo01())

    model = LSTMClassifier(fused=args.cell == "fused")
    if args.weights:
        example_cli.load_weights(model, args.weights)
    model.to(args.device)  # before the optimizer is built, so it holds the moved parameters
    optimizer = optim.Adam(model.parameters(), lr=args.lr)
    scheduler = optim.StepLR(optimizer, args.lr_step, args.lr_gamma) if args.lr_step else None
    loss_fn = nn.NLLLoss()  # the model ends in LogSoftmax
    title = "Paper 000: LSTM(28, 64, 2 layers) on Fashion-MNIST"
    example_cli.announce(args, model, train_loader, title)

    history, started = new_history(), time.perf_counter()
    for epoch in range(1, args.epochs + 1):
        done = train_one_epoch(model, train_loader, loss_fn, optimizer, example_cli.progress(args, train_loader, epoch),
                               example_cli.max_batches(args))
        example_cli.end_epoch(args, history, epoch, done)  # print the epoch's line, save history.json
        if scheduler is not None:
            scheduler.step()  # lr = lr_0 * gamma ** (epochs done // step)

    result = evaluate(model, test_loader, loss_fn)
    example_cli.report(args, model, history, result, test_set, time.perf_counter() - started, title)


if __name__ == "__main__":
    main()
