"""Paper 003's boosting by filtering (Drucker et al.): three nets, the second trained on patterns
the first gets half right, the third where the first two disagree; the ensemble adds their softmax
outputs (tinynet/boosting.py). Each net trains as examples/lenet_resnet_fmnist.py trains one.

    python examples/lenet_boosting.py --model lenet5                 # Adam 1e-3, batch 64, 20 epochs per net
    python examples/lenet_boosting.py --model conv2bn --device gpu --epochs 5
    python examples/lenet_boosting.py --model lenet5 --weights runs/lenet_boosting/lenet5/weights.npz
                                                                     # test a saved ensemble, no training
    python examples/lenet_boosting.py --model lenet5 --method average   # the baseline any boosting
                                        # claim must beat: three nets trained on all patterns, averaged
    python examples/lenet_boosting.py --model lenet5 --warm-start       # nets 2 and 3 start from net 1
    python examples/lenet_boosting.py --model lenet5 --augment 4        # nets 2 and 3 see 4 shifted and
                                        # flipped copies of each filtered pattern per epoch (Drucker et al.
                                        # enlarged the filtered sets with deformed patterns)
    python examples/lenet_boosting.py --model lenet5 --pool 4           # nets 2 and 3 are filtered from the
                                        # training set plus 4 fixed shifted and flipped copies of it
                                        # (Drucker et al. filtered a stream of deformed patterns): the
                                        # best variant, 91.56 % against the paper's 90.82 % (README)
Every run also reports where nets 1 and 2 disagree (the only place the ensemble can gain) and how
often each net is right there.
"""
import time

import numpy as np
from lenet_resnet_fmnist import MODELS, augmented, shift_and_flip, transforms

from tinynet import data, nn, optim
from tinynet.boosting import BoostedEnsemble, boost, disagreement_study
from tinynet.train import EarlyStopping, evaluate, fit, new_history

import example_cli  # examples/example_cli.py: flags, data and report shared by the scripts


def main(argv=None):
    p = example_cli.parser(__doc__.splitlines()[0], epochs=20, batch_size=64, lr=1e-3, models=sorted(MODELS),
                           default_model="lenet5")
    p.add_argument("--weights", default=None, help="test this saved ensemble (.npz), no training")
    p.add_argument("--patience", type=int, default=5, help="early-stopping patience in epochs, per net")
    p.add_argument("--method", choices=["filter", "average"], default="filter",
                   help="boosting by filtering (the paper's), or three independently trained nets averaged")
    p.add_argument("--warm-start", action="store_true",
                   help="with --method filter: nets 2 and 3 start from net 1's trained weights")
    p.add_argument("--augment", type=int, default=0, metavar="K",
                   help="with --method filter: nets 2 and 3 train on K randomly shifted and flipped copies of "
                        "each filtered pattern per epoch (0: the filtered patterns as they are)")
    p.add_argument("--pool", type=int, default=0, metavar="K",
                   help="with --method filter: filter the sets of nets 2 and 3 from the training set plus K "
                        "randomly shifted and flipped copies of it, made once (0: from the training set)")
    args = p.parse_args(argv)
    for flag, copies in (("--augment", args.augment), ("--pool", args.pool)):
        if copies < 0:
            example_cli.fail(f"{flag} must be >= 0 copies, got {copies}")
    if args.method != "filter" and (args.augment or args.warm_start or args.pool):
        example_cli.fail("--augment, --pool and --warm-start change how nets 2 and 3 get or learn their filtered "
                         "sets; they apply to --method filter, not to --method average")
    run_name = args.model + ("_average" if args.method == "average" else "_warm" if args.warm_start else "")
    run_name += (f"_augment{args.augment}" if args.augment else "") + (f"_pool{args.pool}" if args.pool else "")
    example_cli.setup(args, "lenet_boosting", run_name=run_name)
    train_transform, plain = transforms(args.model)
    loaders = example_cli.load_data(args, transform=train_transform, test_transform=plain, validation_fraction=0.1)
    run_boosting(args, loaders, plain)


def deformed_pool(dataset, copies, seed):
    """The patterns plus ``copies`` randomly shifted (up to 2 pixels) and flipped copies of each, drawn
    once, so that a pattern net 1 got wrong is the very image net 2 trains on."""
    rng = np.random.default_rng(seed)
    deform = shift_and_flip()
    inputs = [dataset.inputs] + [deform(dataset.inputs, rng) for _ in range(copies)]
    return data.ArrayDataset(np.concatenate(inputs), np.tile(dataset.targets, copies + 1), dataset.classes)


def run_boosting(args, loaders, plain):
    """Three nets trained by filtering (see tinynet/boosting.py); the ensemble adds their softmax outputs."""
    train_loader, val_loader, test_loader, test_set = loaders
    histories = []

    def train(model, dataset):
        transform = train_loader.transform
        if args.augment and histories:  # nets 2 and 3: enlarge the filtered set
            print(f"net {len(histories) + 1} sees {args.augment} shifted and flipped copies of its {len(dataset):,} "
                  f"patterns per epoch")
            dataset = dataset.take(np.tile(np.arange(len(dataset)), args.augment))
            transform = augmented(transform)
        loader = example_cli.loader(args, dataset, transform, shuffle=True, seed_offset=len(histories))
        histories.append(fit(model, nn.CrossEntropyLoss(), optim.Adam(model.parameters(), lr=args.lr), loader,
                             args.epochs, val_loader=val_loader, progress=not args.no_progress,
                             callbacks=[EarlyStopping("val_loss", patience=args.patience)],
                             max_batches=5 if args.quick else None))

    def predict(model, dataset):
        return evaluate(model, example_cli.loader(args, dataset, plain, batch_size=1000))["predictions"]

    started = time.perf_counter()
    if args.weights:  # a saved ensemble: test it again, no training
        ensemble, info = BoostedEnsemble([MODELS[args.model]() for _ in range(3)]), {}
        example_cli.load_weights(ensemble, args.weights)
        ensemble.to(args.device)
    elif args.method == "average":  # three nets on all patterns, each with its own shuffling; no filtering
        members = [MODELS[args.model]().to(args.device) for _ in range(3)]
        for member in members:
            train(member, train_loader.dataset)
        ensemble, info = BoostedEnsemble(members), {}
    else:
        made = []

        def new_net():  # boost() asks for net 2 only after net 1 is trained
            net = MODELS[args.model]().to(args.device)
            if args.warm_start and made:
                net.load_state_dict(made[0].state_dict())
            made.append(net)
            return net
        ensemble, info = boost(new_net, train, predict, train_loader.dataset, args.seed,
                               pool=deformed_pool(train_loader.dataset, args.pool, args.seed) if args.pool else None)
    results = [evaluate(member, test_loader) for member in ensemble.members]
    for k, result in enumerate(results, 1):
        print(f"net {k}: test accuracy {result['accuracy'] * 100:.2f}%")
    study = disagreement_study([r["predictions"] for r in results], results[0]["targets"])
    if study["disagreement_share"] == 0:
        print("nets 1 and 2 agree on every test image, so net 3 cannot change the ensemble's answer")
    else:
        print(f"nets 1 and 2 disagree on {study['disagreement_share'] * 100:.1f}% of the test images; there "
              "nets 1, 2, 3 are right on "
              + ", ".join(f"{a * 100:.1f}%" for a in study["accuracy_where_nets_1_2_disagree"]))
    history = histories[0] if histories else new_history()  # a reloaded ensemble has no training history
    example_cli.report(args, ensemble, history, evaluate(ensemble, test_loader), test_set,
                       time.perf_counter() - started, f"Paper 003: {args.model}, 3 nets ({args.method})",
                       extra_metrics={"method": args.method, "member_test_accuracy": [r["accuracy"] for r in results],
                                      **info, **study})


if __name__ == "__main__":
    main()
