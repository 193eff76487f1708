"""Saving and loading as .npz (never pickle), written atomically so a crash cannot destroy an old file.

``save`` takes a flat {name: array} dict, such as ``model.state_dict()``. Checkpoints hold more
(optimizer state, epoch, history): they are flattened to "model/...", "optimizer/..." names, with
small metadata stored as JSON text.
"""
from __future__ import annotations

import json
import os
import tempfile
import zipfile

import numpy as np

from . import backend


def atomic_write(path, writer, binary=True) -> str:
    """Call writer(handle) on a temporary file in ``path``'s folder, then rename it to ``path``:
    readers see the old file or the complete new one, never a half-written one."""
    path = os.fspath(path)
    folder = os.path.dirname(os.path.abspath(path))
    os.makedirs(folder, exist_ok=True)
    handle, temporary = tempfile.mkstemp(dir=folder, prefix=".tmp-" + os.path.basename(path))
    try:
        with os.fdopen(handle, "wb" if binary else "w") as out:
            writer(out)
        os.replace(temporary, path)
    except BaseException:
        if os.path.exists(temporary):
            os.unlink(temporary)
        raise
    return path


def save(state: dict, path) -> str:
    """Write {name: array} to ``path`` (.npz), atomically."""
    arrays = {name: np.asarray(backend.to_numpy(value)) for name, value in state.items()}
    for name, array in arrays.items():
        if array.dtype.hasobject:
            raise TypeError(f"cannot save {name!r}: it holds Python objects (dtype object), and tinynet "
                            f"never pickles; save numeric arrays only")
    return atomic_write(path, lambda out: np.savez(out, **arrays))


def load(path) -> dict:
    """Read a file written by ``save`` into {name: NumPy array}; clear errors for missing/corrupt files."""
    path = os.fspath(path)
    if not os.path.isfile(path):
        raise FileNotFoundError(f"{path}: no such file")
    try:
        with np.load(path, allow_pickle=False) as archive:
            return {name: archive[name] for name in archive.files}
    except (zipfile.BadZipFile, ValueError, OSError, EOFError) as error:
        raise ValueError(f"{path}: not a readable tinynet .npz file ({error}); it may be truncated "
                         f"or corrupt") from None


def save_checkpoint(path, model, optimizer=None, epoch=0, history=None, extra=None) -> str:
    """Model weights, optimizer state, the epoch count, history and the CPU random state in one file."""
    state = {f"model/{name}": array for name, array in model.state_dict().items()}
    meta = {"epoch": epoch, "history": history or {}, "extra": extra or {},
            "rng": backend.cpu_rng().bit_generator.state}
    if optimizer is not None:
        optimizer_state = optimizer.state_dict()
        meta["optimizer"] = {"hyperparameters": optimizer_state["hyperparameters"], "scalars": []}
        for index, entry in enumerate(optimizer_state["state"]):
            scalars = {}
            for key, value in entry.items():
                if isinstance(value, np.ndarray):
                    state[f"optimizer/{index}/{key}"] = value
                else:
                    scalars[key] = value
            meta["optimizer"]["scalars"].append(scalars)
    state["meta"] = np.array(json.dumps(meta))
    return save(state, path)


def load_checkpoint(path, model, optimizer=None) -> dict:
    """Restore what save_checkpoint wrote; returns its metadata (epoch, history, extra)."""
    state = load(path)
    if "meta" not in state:
        raise ValueError(f"{path}: not a tinynet checkpoint (no metadata); for plain weights use "
                         f"model.load_state_dict(tn.load(path))")
    meta = json.loads(str(state["meta"]))
    model.load_state_dict({name[len("model/"):]: a for name, a in state.items() if name.startswith("model/")})
    if optimizer is not None and "optimizer" in meta:
        entries = [dict(scalars) for scalars in meta["optimizer"]["scalars"]]
        for name, array in state.items():
            if name.startswith("optimizer/"):
                _, index, key = name.split("/", 2)
                entries[int(index)][key] = array
        hyper = meta["optimizer"]["hyperparameters"]
        if "betas" in hyper:
            hyper["betas"] = tuple(hyper["betas"])
        optimizer.load_state_dict({"hyperparameters": hyper, "state": entries})
    backend.cpu_rng().bit_generator.state = meta["rng"]
    return meta


def write_text(text: str, path) -> str:
    """Write text atomically."""
    return atomic_write(path, lambda out: out.write(text), binary=False)


def write_json(obj, path) -> str:
    """Write ``obj`` as indented JSON, atomically."""
    return write_text(json.dumps(obj, indent=1), path)
