"""Debugging a network: anomaly detection and a profiler, as context managers.

    with tn.detect_anomaly():        # PyTorch's torch.autograd.detect_anomaly
        loss = model(x) ...          # a NaN or inf from any forward or backward raises at once,
        loss.backward()              # naming the Function and the line of your code that called it

    with tn.profile() as p:          # per Function: calls, forward and backward time, kernels used
        train_step()
    print(p)

Both listen to tinynet.instrument; outside them the engine runs as usual. time_training_step
times a whole training step (the pruning study and benchmarks/bench_prune.py use it).
"""
from __future__ import annotations

import contextlib
import os
import time
import traceback

import numpy as np

from . import backend, instrument

_PACKAGE = os.path.dirname(os.path.abspath(__file__))


def _callers_line() -> str:
    """'file:line in function: code' of the innermost frame outside tinynet (the user's code)."""
    for frame in reversed(traceback.extract_stack()):
        if not os.path.abspath(frame.filename).startswith(_PACKAGE):
            return f"{frame.filename}:{frame.lineno} in {frame.name}: {frame.line}"
    return "(inside tinynet)"


def _non_finite(arrays):
    """Index and kind ('NaN' or 'inf') of the first array holding a NaN or infinity, or None."""
    for index, array in enumerate(arrays):
        if array is None or getattr(array, "dtype", None) is None or array.dtype.kind not in "fc":
            continue
        xp = backend.get_array_module(array)
        if not bool(xp.isfinite(array).all()):
            return index, "NaN" if bool(xp.isnan(array).any()) else "inf"
    return None


class _Monitor(contextlib.ContextDecorator):
    """Registers itself with tinynet.instrument while active; subclasses override what they need."""

    def __enter__(self):
        instrument.monitors.append(self)
        return self

    def __exit__(self, *exc):
        instrument.monitors.remove(self)

    def forward_started(self, fn): pass
    def forward_done(self, fn, outputs): pass
    def backward_started(self, fn): pass
    def backward_done(self, fn, grad_inputs): pass
    def kernel_ran(self, name, version): pass


class detect_anomaly(_Monitor):
    """Raise FloatingPointError as soon as a forward output or a backward gradient holds a NaN or an
    infinity, naming the Function and the line of user code that created it. Slow (it checks every
    array and records where each Function was called): for finding a bug, not for training."""

    def forward_started(self, fn):
        fn.created_at = _callers_line()

    def forward_done(self, fn, outputs):
        found = _non_finite(outputs)
        if found is not None:
            raise FloatingPointError(f"{fn.name} forward produced {found[1]} in output {found[0]}; "
                                     f"called at {fn.created_at}")

    def backward_done(self, fn, grad_inputs):
        found = _non_finite(grad_inputs)
        if found is not None:
            where = getattr(fn, "created_at", "(its forward ran outside detect_anomaly)")
            raise FloatingPointError(f"{fn.name} backward produced {found[1]} in the gradient of input "
                                     f"{found[0]}; the {fn.name} was called at {where}")


class profile(_Monitor):
    """Per Function type: calls, forward and backward seconds, and which kernel versions ran.
    With ``synchronize`` (default), GPU work is waited for around each call so times are real."""

    def __init__(self, synchronize=True):
        self.synchronize, self.rows, self.running = synchronize, {}, []

    def _row(self, fn):
        return self.rows.setdefault(fn.name, {"calls": 0, "forward_s": 0.0, "backward_s": 0.0, "kernels": set()})

    def _start(self, fn):
        if self.synchronize and fn.inputs is not None:
            backend.synchronize(fn.inputs[0].device)
        self.running.append((fn, time.perf_counter()))

    def _stop(self, key):
        fn, started = self.running.pop()
        if self.synchronize and fn.inputs is not None:
            backend.synchronize(fn.inputs[0].device)
        self._row(fn)[key] += time.perf_counter() - started

    def forward_started(self, fn):
        self._row(fn)["calls"] += 1
        self._start(fn)

    def forward_done(self, fn, outputs):
        self._stop("forward_s")

    def backward_started(self, fn):
        self._start(fn)

    def backward_done(self, fn, grad_inputs):
        self._stop("backward_s")

    def kernel_ran(self, name, version):
        if self.running:
            self._row(self.running[-1][0])["kernels"].add(f"{name}: {version}")

    def table(self) -> str:
        """The rows as text, most time first, with each Function's share of the total."""
        total = sum(r["forward_s"] + r["backward_s"] for r in self.rows.values()) or 1.0
        lines = [f"{'Function':<16}{'calls':>7}{'forward ms':>12}{'backward ms':>13}{'share':>7}  kernels"]
        for name, r in sorted(self.rows.items(), key=lambda item: -(item[1]["forward_s"] + item[1]["backward_s"])):
            share = (r["forward_s"] + r["backward_s"]) / total
            lines.append(f"{name:<16}{r['calls']:>7}{r['forward_s'] * 1e3:>12.2f}{r['backward_s'] * 1e3:>13.2f}"
                         f"{share:>7.0%}  {', '.join(sorted(r['kernels'])) or '-'}")
        return "\n".join(lines)

    __str__ = table


def time_training_step(model, loss_fn, optimizer, x, y, repeats=30) -> dict:
    """Median milliseconds of a whole training step and of optimizer.step() alone, on one batch.
    (It trains the model on that batch: time a copy if the weights matter.)"""
    step_times, update_times = [], []
    for _ in range(repeats + 3):
        backend.synchronize(model.device)
        started = time.perf_counter()
        loss = loss_fn(model(x), y)
        optimizer.zero_grad()
        loss.backward()
        backend.synchronize(model.device)
        before_update = time.perf_counter()
        optimizer.step()
        backend.synchronize(model.device)
        done = time.perf_counter()
        step_times.append(done - started)
        update_times.append(done - before_update)
    return {"step_ms": float(np.median(step_times[3:]) * 1e3), "update_ms": float(np.median(update_times[3:]) * 1e3)}
