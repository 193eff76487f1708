"""Saving and loading as .npz (never pickle), written atomically so a crash cannot destroy an old file.

``save`` takes a flat {name: array} dict, such as ``model.state_dict()``. Checkpoints hold more
(optimizer state, epoch, history): they are flattened to "model/...", "optimizer/..." names, with
small metadata stored as JSON text.
"""
from __future__ import annotations

import json
import os
import zipfile

import numpy as np

from . import backend
from .io import atomic_write


def save(state: dict, path) -> str:
    """Write {name: array} to ``path`` (.npz), atomically."""
    arrays = {name: np.asarray(backend.to_numpy(value)) for name, value in state.items()}
    for name, array in arrays.items():
        if array.dtype.hasobject:
            raise TypeError(f"cannot save {name!r}: it holds Python objects (dtype object), and tinynet "
                            f"never pickles; save numeric arrays only")
    return atomic_write(path, lambda out: np.savez(out, **arrays))


_DEFLATE_MAX_RATIO = 1032  # the most that deflate can expand: a larger claim is a lie


class _ClaimTooLarge(ValueError):
    """A member of an .npz claims more data than the file holds (its message is complete as is)."""


def _check_claimed_sizes(path, archive: zipfile.ZipFile):
    """Refuse members whose .npy header claims more bytes than the member can hold, before NumPy
    allocates them (a tiny crafted file could otherwise ask for gigabytes)."""
    for info in archive.infolist():
        if not info.filename.endswith(".npy"):
            continue
        compressed = info.compress_type != zipfile.ZIP_STORED
        if compressed and info.file_size > _DEFLATE_MAX_RATIO * max(info.compress_size, 1):
            raise _ClaimTooLarge(f"{path}: member {info.filename} claims {info.file_size:,} bytes from "
                             f"{info.compress_size:,} compressed; the file is corrupt or crafted")
        with archive.open(info) as member:
            version = np.lib.format.read_magic(member)
            read_header = np.lib.format.read_array_header_1_0 if version == (1, 0) else \
                np.lib.format.read_array_header_2_0
            shape, _, dtype = read_header(member)
            header_bytes = member.tell()
        claimed = int(np.prod(shape, dtype=np.float64)) * dtype.itemsize
        if claimed > info.file_size - header_bytes:
            raise _ClaimTooLarge(f"{path}: array {info.filename[:-4]!r} claims shape {shape} of {dtype} "
                             f"({claimed:,} bytes) but the file holds {info.file_size - header_bytes:,}; "
                             f"the file is truncated, corrupt or crafted")


def load(path) -> dict:
    """Read a file written by ``save`` into {name: NumPy array}; clear errors for missing/corrupt files."""
    path = os.fspath(path)
    if not os.path.isfile(path):
        raise FileNotFoundError(f"{path}: no such file")
    try:
        with zipfile.ZipFile(path) as archive:
            _check_claimed_sizes(path, archive)
        with np.load(path, allow_pickle=False) as archive:
            return {name: archive[name] for name in archive.files}
    except _ClaimTooLarge:
        raise
    except (zipfile.BadZipFile, ValueError, OSError, EOFError, KeyError) as error:
        raise ValueError(f"{path}: not a readable tinynet .npz file ({error}); it may be truncated "
                         f"or corrupt") from None


def save_checkpoint(path, model, optimizer=None, epoch=0, history=None, extra=None, scheduler=None) -> str:
    """Everything a resumed run needs in one file: model weights and buffers, optimizer type and
    state, learning-rate schedule, epoch count, history and the CPU random state."""
    state = {f"model/{name}": array for name, array in model.state_dict().items()}
    meta = {"epoch": epoch, "history": history or {}, "extra": extra or {},
            "rng": backend.cpu_rng().bit_generator.state}
    if optimizer is not None:
        optimizer_state = optimizer.state_dict()
        meta["optimizer"] = {"type": type(optimizer).__name__,
                             "hyperparameters": optimizer_state["hyperparameters"], "scalars": []}
        for index, entry in enumerate(optimizer_state["state"]):
            scalars = {}
            for key, value in entry.items():
                if isinstance(value, np.ndarray):
                    state[f"optimizer/{index}/{key}"] = value
                else:
                    scalars[key] = value
            meta["optimizer"]["scalars"].append(scalars)
    if scheduler is not None:
        meta["scheduler"] = {"type": type(scheduler).__name__, "state": scheduler.state_dict()}
    state["meta"] = np.array(json.dumps(meta, allow_nan=False))
    return save(state, path)


def _read_meta(path, state) -> dict:
    if "meta" not in state:
        raise ValueError(f"{path}: not a tinynet checkpoint (no metadata); for plain weights use "
                         f"model.load_state_dict(tn.load(path))")
    try:
        meta = json.loads(str(state["meta"]))
    except json.JSONDecodeError as error:
        raise ValueError(f"{path}: the checkpoint's metadata is not valid JSON ({error})") from None
    if not isinstance(meta, dict) or not isinstance(meta.get("epoch"), int) or meta["epoch"] < 0:
        raise ValueError(f"{path}: the checkpoint's metadata has no valid epoch count")
    try:  # try the random state on a throwaway generator first
        generator = np.random.default_rng()
        generator.bit_generator.state = meta["rng"]
    except (KeyError, TypeError, ValueError) as error:
        raise ValueError(f"{path}: the checkpoint's random state is invalid ({error!r})") from None
    return meta


def _optimizer_state(path, meta, state, optimizer) -> dict:
    saved = meta.get("optimizer")
    if saved is None:
        raise ValueError(f"{path}: the checkpoint holds no optimizer state; load it with optimizer=None")
    if saved.get("type", type(optimizer).__name__) != type(optimizer).__name__:
        raise ValueError(f"{path}: the checkpoint holds {saved['type']} state, the optimizer given is "
                         f"{type(optimizer).__name__}; build a {saved['type']} to resume this run")
    entries = [dict(scalars) for scalars in saved["scalars"]]
    for name, array in state.items():
        if name.startswith("optimizer/"):
            _, index, key = name.split("/", 2)
            entries[int(index)][key] = array
    hyper = dict(saved["hyperparameters"])
    if "betas" in hyper:
        hyper["betas"] = tuple(hyper["betas"])
    optimizer_state = {"hyperparameters": hyper, "state": entries}
    optimizer.check_state_dict(optimizer_state)
    return optimizer_state


def load_checkpoint(path, model, optimizer=None, scheduler=None) -> dict:
    """Restore what save_checkpoint wrote; returns its metadata (epoch, history, extra).

    Everything is checked before anything is changed: a checkpoint of another model, optimizer
    type or schedule, or with damaged metadata, is refused with the model and optimizer untouched."""
    state = load(path)
    meta = _read_meta(path, state)
    model_state = {name[len("model/"):]: a for name, a in state.items() if name.startswith("model/")}
    model.check_state_dict(model_state)
    optimizer_state = _optimizer_state(path, meta, state, optimizer) if optimizer is not None else None
    if scheduler is not None:
        saved = meta.get("scheduler")
        if saved is None or saved.get("type") != type(scheduler).__name__:
            raise ValueError(f"{path}: the checkpoint holds no {type(scheduler).__name__} state "
                             f"(found {saved and saved.get('type')}); pass the schedule the run was saved with")
    model.load_state_dict(model_state)
    if optimizer_state is not None:
        optimizer.load_state_dict(optimizer_state)
    if scheduler is not None:
        scheduler.load_state_dict(meta["scheduler"]["state"])
    backend.cpu_rng().bit_generator.state = meta["rng"]
    return meta
