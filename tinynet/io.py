"""Writing files safely: every file tinynet writes (weights, checkpoints, JSON, text, figures,
downloads) goes through atomic_write, so a crash or a full disk leaves the old file, never half
of a new one.
"""
from __future__ import annotations

import json
import os
import tempfile

_TEMPORARY_MARK = ".tmp-"


def _remove_stale_temporaries(folder, name):
    """Delete what a killed earlier save of ``name`` left behind (``.tmp-<name>.<random>``)."""
    prefix = f"{_TEMPORARY_MARK}{name}."
    for entry in os.listdir(folder):
        if entry.startswith(prefix) and len(entry) == len(prefix) + 8:
            try:
                os.unlink(os.path.join(folder, entry))
            except OSError:
                pass  # another process removed it, or it is not ours to remove


def _new_file_mode(path) -> int:
    """The mode a plainly created file would get: the old file's if there is one, else 0o666 less the umask."""
    if os.path.exists(path):
        return os.stat(path).st_mode & 0o7777
    umask = os.umask(0)
    os.umask(umask)
    return 0o666 & ~umask


def atomic_write(path, writer, binary=True) -> str:
    """Call writer(handle) on a temporary file in ``path``'s folder, then rename it to ``path``:
    readers see the old file or the complete new one, never a half-written one. Leftovers of a
    save that was killed are removed first; the file gets the permissions a plain open() would give."""
    path = os.fspath(path)
    folder = os.path.dirname(os.path.abspath(path))
    os.makedirs(folder, exist_ok=True)
    name = os.path.basename(path)
    _remove_stale_temporaries(folder, name)
    handle, temporary = tempfile.mkstemp(dir=folder, prefix=f"{_TEMPORARY_MARK}{name}.", suffix="")
    try:
        with os.fdopen(handle, "wb" if binary else "w") as out:
            writer(out)
        os.chmod(temporary, _new_file_mode(path))
        os.replace(temporary, path)
    except BaseException:
        if os.path.exists(temporary):
            os.unlink(temporary)
        raise
    return path


def write_text(text: str, path) -> str:
    """Write text atomically."""
    return atomic_write(path, lambda out: out.write(text), binary=False)


def write_json(obj, path) -> str:
    """Write ``obj`` as indented JSON, atomically. NaN and infinity are not JSON: they raise
    ValueError here rather than produce a file that JSON readers reject."""
    return write_text(json.dumps(obj, indent=1, allow_nan=False), path)
