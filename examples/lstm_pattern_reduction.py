"""Paper 000's training pattern reduction: train the LSTM classifier on fewer patterns, chosen at
random or by their loss (the paper's proposed future work).

    python examples/lstm_pattern_reduction.py --patterns 20000 --by random
    python examples/lstm_pattern_reduction.py --patterns 20000 --by loss
    python examples/lstm_pattern_reduction.py --patterns 10000 --by loss --hard-fraction 0.5

--epochs in all (default 10). With --by loss the first epoch is a warm-up on all 60,000 patterns;
then the --patterns of highest loss under that model (a --hard-fraction of them; the rest drawn at
random) are kept for the remaining epochs. Writes the usual report into --out.
"""
import time

import numpy as np

from tinynet import data, nn, optim
from tinynet.models import LSTMClassifier
from tinynet.train import evaluate, new_history, train_one_epoch

import example_cli  # examples/example_cli.py: flags, data and report shared by the scripts


def hardest_patterns(model, dataset, args, transform):
    """The --patterns patterns of highest loss under ``model`` (a --hard-fraction of them)."""
    ordered = example_cli.loader(args, dataset, transform, batch_size=1000)
    log_probs = evaluate(model, ordered)["scores"]  # the model outputs log-probabilities
    losses = -log_probs[np.arange(len(log_probs)), dataset.targets]
    return data.subset_by_loss(dataset, losses, args.patterns, args.hard_fraction, args.seed)


def main(argv=None):
    p = example_cli.parser(__doc__.splitlines()[0], epochs=10, batch_size=100, lr=1e-3)
    p.add_argument("--patterns", type=int, required=True, help="how many training patterns to keep")
    p.add_argument("--by", choices=["random", "loss"], default="random")
    p.add_argument("--hard-fraction", type=float, default=1.0,
                   help="with --by loss: share of the patterns taken by highest loss (the rest random)")
    args = p.parse_args(argv)
    if not 0 <= args.hard_fraction <= 1:
        example_cli.fail(f"--hard-fraction must be in [0, 1], got {args.hard_fraction}")
    if args.patterns < 1:
        example_cli.fail(f"--patterns must be >= 1, got {args.patterns}")
    example_cli.setup(args, "lstm_pattern_reduction", run_name=f"{args.by}_{args.patterns}")
    transform = data.ScaleTo01()
    train_loader, _, test_loader, test_set = example_cli.load_data(args, transform=transform)
    if args.patterns > len(train_loader.dataset):
        example_cli.fail(f"--patterns {args.patterns} is more than the {len(train_loader.dataset):,} training patterns")
    model = LSTMClassifier().to(args.device)
    optimizer = optim.Adam(model.parameters(), lr=args.lr)
    loss_fn = nn.NLLLoss()  # the model ends in LogSoftmax
    history, started, first_epoch = new_history(), time.perf_counter(), 1
    if args.by == "loss":  # epoch 1 on every pattern, so that the model can tell which ones are hard
        print(f"epoch 1 on all {len(train_loader.dataset):,} patterns, to rank them by loss")
        done = train_one_epoch(model, loss_fn, optimizer, train_loader, example_cli.max_batches(args),
                               progress=example_cli.progress(args, train_loader, 1))
        example_cli.end_epoch(args, history, 1, done)
        kept, first_epoch = hardest_patterns(model, train_loader.dataset, args, transform), 2
        print(f"kept the {args.patterns:,} patterns of highest loss (hard fraction {args.hard_fraction})")
    else:
        kept = data.subset(train_loader.dataset, args.patterns, args.seed)
    kept_loader = example_cli.loader(args, kept, transform, shuffle=True)
    title = f"Paper 000: LSTM on {args.patterns:,} patterns chosen by {args.by}"
    example_cli.announce(args, model, kept_loader, title)

    for epoch in range(first_epoch, args.epochs + 1):
        done = train_one_epoch(model, loss_fn, optimizer, kept_loader, example_cli.max_batches(args),
                               progress=example_cli.progress(args, kept_loader, epoch))
        example_cli.end_epoch(args, history, epoch, done)
    result = evaluate(model, test_loader, loss_fn)
    example_cli.report(args, model, history, result, test_set, time.perf_counter() - started, title)


if __name__ == "__main__":
    main()
