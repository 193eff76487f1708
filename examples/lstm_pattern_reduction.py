"""Paper 000's training pattern reduction: train the LSTM classifier on fewer patterns, chosen at
random or by their loss (the paper's proposed future work).

    python examples/lstm_pattern_reduction.py --patterns 20000 --by random
    python examples/lstm_pattern_reduction.py --patterns 20000 --by loss
    python examples/lstm_pattern_reduction.py --patterns 10000 --by loss --hard-fraction 0.5

--epochs in all (default 10). With --by loss the first epoch is a warm-up on all 60,000 patterns;
then the --patterns of highest loss under that model (a --hard-fraction of them; the rest drawn at
random) are kept for the remaining epochs. Writes the usual report into --out.
"""
import numpy as np

from tinynet import data, nn, optim
from tinynet.models import LSTMClassifier
from tinynet.train import evaluate, fit

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
    if args.by == "loss":
        print(f"warm-up epoch on all {len(train_loader.dataset):,} patterns")
        fit(model, nn.NLLLoss(), optimizer, train_loader, 1, progress=not args.no_progress,
            max_batches=5 if args.quick else None)
        kept = hardest_patterns(model, train_loader.dataset, args, transform)
        args.epochs -= 1
        print(f"kept the {args.patterns:,} patterns of highest loss (hard fraction {args.hard_fraction})")
    else:
        kept = data.subset(train_loader.dataset, args.patterns, args.seed)
    loaders = (example_cli.loader(args, kept, transform, shuffle=True), None, test_loader, test_set)
    example_cli.run(args, model, nn.NLLLoss(), optimizer, loaders,
                    title=f"Paper 000: LSTM on {args.patterns:,} patterns chosen by {args.by}")


if __name__ == "__main__":
    main()
