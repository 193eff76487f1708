"""What the example scripts share, kept out of the library (argparse and exit codes are the
scripts' business): the command-line flags and their checks, data preparation, the bookkeeping
around each epoch (progress bar, printed line, history.json) and the report (tinynet.report
writes it). The training loops themselves stay in the scripts. Scripts in this folder import it as ``example_cli``."""
from __future__ import annotations

import argparse
import math
import os
import sys
import tempfile

from tinynet import backend, data
from tinynet.report import write_report
from tinynet.serialization import load
from tinynet.train import Progress, epoch_line, record_epoch, save_history


def parser(description, epochs, batch_size, lr, models=None, default_model=None) -> argparse.ArgumentParser:
    """The flags shared by all examples, with the paper's settings as defaults."""
    p = argparse.ArgumentParser(description=description,
                                formatter_class=argparse.ArgumentDefaultsHelpFormatter)
    p.add_argument("--device", default="cpu", help="cpu or gpu (cuda)")
    p.add_argument("--epochs", type=int, default=epochs)
    p.add_argument("--batch-size", type=int, default=batch_size)
    p.add_argument("--lr", type=float, default=lr)
    p.add_argument("--seed", type=int, default=0)
    p.add_argument("--data-dir", default=None, help="folder with the Fashion-MNIST IDX files")
    p.add_argument("--out", default=None, help="output folder (default runs/<script>/<model>)")
    p.add_argument("--subset", type=int, default=None, help="train on N random training patterns")
    p.add_argument("--quick", action="store_true",
                   help="smoke run: 1 epoch of a few batches on 2,000 train / 500 test images")
    p.add_argument("--no-progress", action="store_true", help="plain lines instead of a progress bar")
    if models:
        p.add_argument("--model", choices=models, default=default_model)
    return p


def fail(message):
    """End an example script with one clear line on stderr and exit status 1 (no traceback)."""
    sys.exit(f"error: {message}")


def check_flags(args):
    """Refuse flag values that cannot be honoured, naming the flag, before anything is trained."""
    if args.epochs < 0:
        fail(f"--epochs must be >= 0, got {args.epochs}")
    if args.batch_size < 1:
        fail(f"--batch-size must be >= 1, got {args.batch_size}")
    if not (math.isfinite(args.lr) and args.lr >= 0):
        fail(f"--lr must be a finite number >= 0, got {args.lr}")
    if args.subset is not None and args.subset < 1:
        fail(f"--subset must be >= 1 training patterns (leave it out to train on all), got {args.subset}")


def prepare_output_folder(folder):
    """Create ``folder`` if needed and prove it writable now, not after hours of training."""
    if os.path.exists(folder) and not os.path.isdir(folder):
        fail(f"--out {folder} is a file; give a folder")
    try:
        os.makedirs(folder, exist_ok=True)
        with tempfile.TemporaryFile(dir=folder):
            pass
    except OSError as error:
        fail(f"--out {folder} is not a writable folder ({error.strerror or error})")


def setup(args, script_name, run_name=None):
    """Check the flags, seed, check the device early (a clear error, never a silent CPU fallback),
    pick --out (default runs/<script_name>/<run_name or --model>) and make sure it is writable."""
    check_flags(args)
    backend.manual_seed(args.seed)
    try:
        if backend.normalize_device(args.device) == backend.GPU:
            backend.require_gpu()
    except (ValueError, backend.DeviceError) as error:
        fail(f"--device {args.device}: {error}")
    name = run_name or getattr(args, "model", None) or "default"
    args.out = args.out or os.path.join("runs", script_name, name)
    prepare_output_folder(args.out)
    if args.quick:
        args.epochs = 1
    return args


def load_data(args, transform, test_transform=None, validation_fraction=0.0):
    """(train_loader, val_loader or None, test_loader, test_set) for Fashion-MNIST."""
    try:
        train_set = data.fashion_mnist("train", args.data_dir)
        test_set = data.fashion_mnist("test", args.data_dir)
    except (data.DatasetNotFoundError, data.IDXError) as error:
        fail(error)
    if args.quick:
        train_set, test_set = data.subset(train_set, 2000, args.seed), data.subset(test_set, 500, args.seed)
    if args.subset is not None:
        if args.subset > len(train_set):
            fail(f"--subset {args.subset} is larger than the {len(train_set):,} training patterns")
        train_set = data.subset(train_set, args.subset, args.seed)
    val_set = None
    if validation_fraction:
        train_set, val_set = data.random_split(train_set, [1 - validation_fraction, validation_fraction], args.seed)
    test_transform = test_transform or transform
    return (loader(args, train_set, transform, shuffle=True),
            loader(args, val_set, test_transform) if val_set else None,
            loader(args, test_set, test_transform), test_set)


def loader(args, dataset, transform, shuffle=False, seed_offset=0, batch_size=None):
    """A DataLoader with the run's batch size, seed and device (shuffled for training)."""
    return data.DataLoader(dataset, batch_size or args.batch_size, shuffle=shuffle, seed=args.seed + seed_offset,
                           transform=transform, device=args.device)


def announce(args, model, train_loader, title):
    """The run's first line: what trains, how big, on how many patterns, where."""
    print(f"{title}: {sum(p.size for p in model.parameters()):,} parameters, "
          f"{len(train_loader.dataset):,} training patterns, device {args.device}")


def max_batches(args):
    """Batches per epoch: all of them, or 5 with --quick."""
    return 5 if args.quick else None


def batches_per_epoch(args, loader):
    """How many batches of ``loader`` one epoch trains on (fewer with --quick)."""
    return min(len(loader), max_batches(args) or len(loader))


def progress(args, loader, epoch) -> Progress:
    """The epoch's progress bar on a terminal (a plain line per epoch with --no-progress or in a log)."""
    return Progress(batches_per_epoch(args, loader), epoch, args.epochs, not args.no_progress)


def end_epoch(args, history, epoch, done, validation=None) -> dict:
    """After epoch ``epoch`` (from 1), given train_one_epoch's result ``done``: end the run with a clear
    message if its loss became NaN or inf (nothing written over earlier results); otherwise record
    the epoch (and ``validation``, an evaluate() result) in ``history``, print its line and save
    history.json into --out. Returns the epoch's logs."""
    if done["non_finite_loss"] is not None:
        batch, value = done["non_finite_loss"]
        fail(f"the loss became {value} at epoch {epoch}, batch {batch + 1}; lower --lr. No weights, metrics or "
             f"figures were written to {args.out}/ (history.json holds the epochs completed before).")
    logs = record_epoch(history, done, validation)
    print(epoch_line(epoch, args.epochs, logs, done["seen"]))
    save_history(history, os.path.join(args.out, "history.json"))
    return logs


def load_weights(model, path):
    """--weights FILE.npz: load a compatible state dict (e.g. converted from PyTorch), exiting clearly."""
    try:
        model.load_state_dict(load(path))
    except (FileNotFoundError, ValueError) as error:
        fail(f"cannot use --weights {path}: {error}")
    print(f"loaded weights from {path}")


def report(args, model, history, result, test_set, train_seconds, title, extra_metrics=None):
    """tinynet.report.write_report into --out, with the run's flags recorded in metrics.json."""
    write_report(args.out, model, history, result, test_set, train_seconds, title,
                 settings={"device": args.device, "args": vars(args)}, extra_metrics=extra_metrics)
