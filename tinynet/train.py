"""fit / evaluate: the training loop, its history, progress display and callbacks (Keras' habits).

One epoch: for every batch, loss = loss_fn(model(x), y); backward; optimizer.step(). The history
records loss and accuracy per batch, per epoch (train and validation) and every ``eval_every``
steps; it is plain JSON-ready lists.
"""
from __future__ import annotations

import math
import sys
import time

import numpy as np
from tqdm.auto import tqdm

from .backend import get_array_module, to_numpy
from .io import write_json
from .serialization import save_checkpoint
from .tensor import Tensor, no_grad


class Callback:
    """Hooks called by fit; ``on_epoch_end`` returning True stops training."""

    def on_train_begin(self, model, optimizer): pass
    def on_epoch_end(self, epoch, logs, model, optimizer): return False
    def on_train_end(self, model): pass


def _monitored(monitor, logs):
    if monitor not in logs:
        raise KeyError(f"callback monitors {monitor!r}, which fit does not log (it logs {sorted(logs)}); "
                       f"pass val_loader= to fit for val_* metrics")
    return logs[monitor]


def _improved(value, best, mode, min_delta):
    return best is None or (value < best - min_delta if mode == "min" else value > best + min_delta)


class EarlyStopping(Callback):
    """Stop when ``monitor`` has not improved for ``patience`` epochs; with restore_best, put back
    the weights of the best epoch at the end."""

    def __init__(self, monitor="val_loss", patience=3, mode="min", min_delta=0.0, restore_best=True):
        self.monitor, self.patience, self.mode, self.min_delta = monitor, patience, mode, min_delta
        self.restore_best = restore_best

    def on_train_begin(self, model, optimizer):
        self.best, self.best_state, self.wait, self.best_epoch = None, None, 0, None

    def on_epoch_end(self, epoch, logs, model, optimizer):
        value = _monitored(self.monitor, logs)
        if _improved(value, self.best, self.mode, self.min_delta):
            self.best, self.wait, self.best_epoch = value, 0, epoch
            if self.restore_best:
                self.best_state = model.state_dict()
            return False
        self.wait += 1
        return self.wait >= self.patience

    def on_train_end(self, model):
        if self.restore_best and self.best_state is not None:
            model.load_state_dict(self.best_state)


class ModelCheckpoint(Callback):
    """Save a resumable checkpoint (model, optimizer, learning-rate schedule, epoch, history, random
    state) to ``path`` after each epoch, or only when ``monitor`` improves (best_only). Writes are
    atomic. fit hands it the history and the scheduler."""

    def __init__(self, path, monitor="val_loss", mode="min", best_only=True):
        self.path, self.monitor, self.mode, self.best_only = path, monitor, mode, best_only
        self.history = self.scheduler = None

    def on_train_begin(self, model, optimizer):
        self.best = None

    def on_epoch_end(self, epoch, logs, model, optimizer):
        if self.best_only:
            value = _monitored(self.monitor, logs)
            if not _improved(value, self.best, self.mode, 0.0):
                return False
            self.best = value
        save_checkpoint(self.path, model, optimizer, epoch=epoch + 1, history=self.history, scheduler=self.scheduler)
        return False


def new_history() -> dict:
    """An empty history: lists per batch, per epoch, and per validation every eval_every steps."""
    return {"batch": {"loss": [], "accuracy": []},
            "epoch": {"train_loss": [], "train_accuracy": [], "val_loss": [], "val_accuracy": [], "seconds": []},
            "steps": {"step": [], "val_loss": [], "val_accuracy": []}}


_NO_BATCHES = ("its data set is empty, or smaller than one batch with drop_last=True: use a smaller "
               "batch_size or drop_last=False")


def evaluate(model, loader, loss_fn=None) -> dict:
    """Loss (if loss_fn), accuracy, predictions, targets and scores (model outputs) over a loader."""
    was_training = model.training
    model.eval()
    total_loss, predictions, targets, scores = 0.0, [], [], []
    try:
        with no_grad():
            for x, y in loader:
                out = model(x)
                if loss_fn is not None:
                    total_loss += float(loss_fn(out, y).item()) * len(y)
                scores.append(to_numpy(out.data))
                targets.append(to_numpy(y.data))
    finally:  # also when interrupted (Ctrl-C in a notebook): training goes on with dropout and batch norm as before
        model.train(was_training)
    if not targets:
        raise ValueError(f"evaluate: the loader gave no batches, so there is nothing to measure ({_NO_BATCHES})")
    scores, targets = np.concatenate(scores), np.concatenate(targets)
    predictions = scores.argmax(axis=1)
    return {"loss": total_loss / len(targets) if loss_fn is not None else None,
            "accuracy": float((predictions == targets).mean()),
            "predictions": predictions, "targets": targets, "scores": scores}


class EpochTotals:
    """The running numbers of one training epoch, kept as train_one_epoch goes: per step the loss (a
    float: the loop reads it anyway, to stop before a NaN's backward) and the number of right
    predictions, a 0-d array left where the data is. On a GPU reading that count every step would make
    the host wait for the device a second time per step, after the backward and the optimizer's update,
    instead of queueing the next batch's work meanwhile; the counts come over in one transfer when the
    progress bar draws (a few times a second) and at the end of the epoch."""

    def __init__(self):
        self.started = time.perf_counter()
        self.seen, self.loss_sum = 0, 0.0
        self.batch_loss, self.batch_size, self.batch_correct = [], [], []  # per step; batch_correct read so far
        self._unread = []  # the right-prediction counts still where the data is

    def add(self, loss_value: float, right, size: int):
        """One step: its loss, its number of right predictions (a 0-d Tensor or array) and its batch size."""
        self.seen, self.loss_sum = self.seen + size, self.loss_sum + loss_value * size
        self.batch_loss.append(loss_value)
        self.batch_size.append(size)
        self._unread.append(right.data if isinstance(right, Tensor) else right)

    def correct(self) -> int:
        """Right predictions so far, reading the counts not yet read in one transfer."""
        if self._unread:
            self.batch_correct += to_numpy(get_array_module(self._unread[0]).stack(self._unread)).tolist()
            self._unread = []
        return sum(self.batch_correct)

    def result(self, non_finite=None) -> dict:
        """train_one_epoch's result (see there)."""
        correct = self.correct()
        return {"loss": self.loss_sum / max(self.seen, 1), "accuracy": correct / max(self.seen, 1),
                "seen": self.seen, "seconds": time.perf_counter() - self.started, "batch_loss": self.batch_loss,
                "batch_accuracy": [right / size for right, size in zip(self.batch_correct, self.batch_size)],
                "non_finite_loss": non_finite}


class Progress:
    """A tqdm bar on a terminal; one plain line per epoch otherwise (logs, CI, progress=False)."""

    def __init__(self, total, epoch, epochs, enabled):
        self.bar = tqdm(total=total, desc=f"epoch {epoch}/{epochs}", unit="batch", leave=True,
                        dynamic_ncols=True, file=sys.stderr) if enabled and sys.stderr.isatty() else None
        self.totals = None  # the running numbers of the epoch (an EpochTotals), from the first update

    def update(self, totals: EpochTotals):
        """One more step done; the running loss, accuracy and speed are shown when the bar next draws
        (tqdm draws at most every ``mininterval`` seconds: only then is the accuracy read)."""
        if self.bar is None:
            return
        self.totals = totals
        if time.time() - self.bar.last_print_t >= self.bar.mininterval:
            self._show_totals()
        self.bar.update(1)

    def _show_totals(self):
        seconds = time.perf_counter() - self.totals.started
        self.bar.set_postfix(loss=f"{self.totals.loss_sum / self.totals.seen:.4f}",
                             acc=f"{self.totals.correct() / self.totals.seen:.4f}",
                             samples_s=f"{self.totals.seen / seconds:.0f}", refresh=False)

    def close(self):
        """The last draw, with the epoch's final numbers."""
        if self.bar is not None:
            if self.totals is not None:
                self._show_totals()
            self.bar.close()


def train_one_epoch(model, loss_fn, optimizer, loader, max_batches=None, after_step=None, progress=None) -> dict:
    """One pass over ``loader``, the heart of fit and of the example scripts. For every batch (x, y):

        output = model(x); loss = loss_fn(output, y)
        optimizer.zero_grad(); loss.backward(); optimizer.step()

    ``after_step()`` runs after each step and may return True to end the epoch (fit validates and
    counts steps there); ``progress`` (a Progress) is updated after each step and closed at the end.
    A loss that turns NaN or inf ends the epoch before its backward. The running numbers are kept
    by EpochTotals (the right-prediction counts stay on a GPU until read).
    Returns {"loss", "accuracy" (means over the patterns seen), "seen", "seconds", "batch_loss",
    "batch_accuracy" (one entry per step), "non_finite_loss": None or (batch index, value)}.
    A loader that gives no batches (or max_batches=0) raises ValueError: there is no epoch to report.
    """
    model.train()
    totals, non_finite = EpochTotals(), None
    for index, (x, y) in enumerate(loader):
        if index == max_batches:
            break
        output = model(x)
        loss = loss_fn(output, y)
        loss_value = float(loss.item())
        if not math.isfinite(loss_value):
            non_finite = (index, loss_value)
            break
        optimizer.zero_grad()
        loss.backward()
        optimizer.step()
        totals.add(loss_value, (output.argmax(axis=1) == y).sum(), len(y))
        if progress is not None:
            progress.update(totals)
        if after_step is not None and after_step():
            break
    if progress is not None:
        progress.close()
    if totals.seen == 0 and non_finite is None:  # a loss of 0 over no batches would read as a perfect epoch
        raise ValueError(f"train_one_epoch: the loader gave no batches to train on ({_NO_BATCHES})")
    return totals.result(non_finite)


def record_batches(history, done):
    """Append the per-step loss and accuracy of train_one_epoch's result ``done`` to history["batch"]."""
    history["batch"]["loss"] += done["batch_loss"]
    history["batch"]["accuracy"] += done["batch_accuracy"]


def record_epoch(history, done, validation=None) -> dict:
    """Append one epoch to ``history``: train_one_epoch's result ``done`` (its per-batch lists too) and,
    if given, an evaluate() result on the validation set. Returns the epoch's logs."""
    record_batches(history, done)
    logs = {"train_loss": done["loss"], "train_accuracy": done["accuracy"], "seconds": done["seconds"]}
    if validation is not None:
        logs.update(val_loss=validation["loss"], val_accuracy=validation["accuracy"])
    for key, value in logs.items():
        history["epoch"][key].append(value)
    return logs


def record_validation(history, step, validation):
    """Append a validation result (from evaluate) taken after ``step`` optimizer steps to history["steps"]."""
    history["steps"]["step"].append(step)
    history["steps"]["val_loss"].append(validation["loss"])
    history["steps"]["val_accuracy"].append(validation["accuracy"])


def epoch_line(epoch, epochs, logs, seen) -> str:
    """'epoch 3/10: train_loss 0.4123, ..., 5.8 s (10345 samples/s)' (epoch counted from 1)."""
    numbers = ", ".join(f"{k} {v:.4f}" if k != "seconds" else f"{v:.1f} s" for k, v in logs.items())
    return f"epoch {epoch}/{epochs}: {numbers} ({seen / logs['seconds']:.0f} samples/s)"


def fit(model, loss_fn, optimizer, train_loader, epochs=1, val_loader=None, callbacks=(),
        eval_every=None, progress=True, history=None, start_epoch=0, scheduler=None,
        max_batches=None, max_steps=None, history_path=None, print_fn=print) -> dict:
    """Train ``model`` for ``epochs`` (train_one_epoch each), with Keras' conveniences; returns the history.

    Per epoch: validation on ``val_loader``, a printed line, the scheduler's step, the callbacks
    (EarlyStopping, ModelCheckpoint), history.json. start_epoch / history continue a run restored
    with tinynet.load_checkpoint(path, model, optimizer, scheduler) (the loader's shuffling continues
    with the same epoch numbers; the scheduler, optimizer moments and random state come back from the
    checkpoint). max_batches cuts each epoch short (smoke runs); max_steps ends training after that
    many optimizer steps in all (paper 004 counts steps); eval_every validates every that many steps.
    A loss that turns NaN or inf stops training with a message naming the epoch and step;
    ModelCheckpoint files written before it are the last good state. print_fn=None prints nothing.
    """
    history = history or new_history()
    print_fn = print_fn or (lambda message: None)
    callbacks = list(callbacks)
    for callback in callbacks:
        if isinstance(callback, ModelCheckpoint):
            callback.history, callback.scheduler = history, scheduler
        callback.on_train_begin(model, optimizer)
    train_loader.epoch = start_epoch
    step = len(history["batch"]["loss"])

    def after_step():
        nonlocal step
        step += 1
        if eval_every and val_loader is not None and step % eval_every == 0:
            record_validation(history, step, evaluate(model, val_loader, loss_fn))
        return max_steps is not None and step >= max_steps

    for epoch in range(start_epoch, epochs):
        if max_steps is not None and step >= max_steps:
            break
        batches = len(train_loader) if max_batches is None else min(max_batches, len(train_loader))
        bar = Progress(batches, epoch + 1, epochs, progress)
        done = train_one_epoch(model, loss_fn, optimizer, train_loader, batches, after_step, bar)
        if done["non_finite_loss"] is not None:
            record_batches(history, done)  # the steps before the bad one
            index, value = done["non_finite_loss"]
            history["stopped"] = (f"training stopped: the loss became {value} at epoch {epoch + 1}, step "
                                  f"{step + 1} (batch {index + 1}); lower the learning rate or check the inputs. "
                                  f"Weights from before this step are in the last ModelCheckpoint file, if any.")
            print_fn(history["stopped"])
            break
        logs = record_epoch(history, done, evaluate(model, val_loader, loss_fn) if val_loader is not None else None)
        print_fn(epoch_line(epoch + 1, epochs, logs, done["seen"]))
        if scheduler is not None:
            scheduler.step()
        stop = any([callback.on_epoch_end(epoch, logs, model, optimizer) for callback in callbacks])
        if history_path is not None:
            save_history(history, history_path)
        if stop:
            print_fn(f"early stopping after epoch {epoch + 1}")
            break
    for callback in callbacks:
        callback.on_train_end(model)
    return history


def save_history(history: dict, path) -> str:
    """Write the history as JSON, atomically."""
    return write_json(history, path)
