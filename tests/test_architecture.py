"""The package's layers import downward only (../DESIGN.md): a module never reaches up the stack.

    backend, io, instrument  <  kernels  <  tensor  <  functional, gradcheck  <  nn, optim
    <  data, models, prune, boosting, metrics, viz, serialization  <  train  <  report, debug, testing
"""
import ast
import pathlib

import pytest

LEVEL = {"backend": 0, "io": 0, "instrument": 0, "kernels": 1, "tensor": 2, "functional": 3, "gradcheck": 3,
         "nn": 4, "optim": 4, "data": 5, "models": 5, "prune": 5, "boosting": 5, "metrics": 5, "viz": 5,
         "serialization": 5, "train": 6, "report": 7, "debug": 7, "testing": 7, "__init__": 8, "__main__": 8}
PACKAGE = pathlib.Path(__file__).resolve().parent.parent / "tinynet"


def upward_imports(relative_path: str, source: str) -> list:
    """[(line, imported part)] for each relative import of ``source`` (a file at ``relative_path``
    inside tinynet/) that names a part of the package above the file's own part."""
    parts = pathlib.PurePosixPath(relative_path).parts
    own = parts[0].removesuffix(".py")
    found = []
    for node in ast.walk(ast.parse(source)):
        if not (isinstance(node, ast.ImportFrom) and node.level):
            continue
        folder = list(parts[:-1])[:len(parts) - node.level]  # where "from ." / "from .." points
        target = folder + (node.module.split(".") if node.module else [])
        names = [target[0]] if target else [alias.name for alias in node.names]
        found += [(node.lineno, name) for name in names if LEVEL.get(name, -1) > LEVEL[own]]
    return found


def package_files():
    return sorted(str(path.relative_to(PACKAGE).as_posix()) for path in PACKAGE.rglob("*.py"))


@pytest.mark.parametrize("relative_path", package_files())
def test_module_imports_only_downward(relative_path):
    assert relative_path.split("/")[0].removesuffix(".py") in LEVEL, f"place {relative_path} in LEVEL"
    assert upward_imports(relative_path, (PACKAGE / relative_path).read_text()) == []


def test_the_check_finds_an_upward_import():
    assert upward_imports("tensor.py", "from .functional import add\n") == [(1, "functional")]
    assert upward_imports("kernels/lstm_cell.py", "from ..tensor import Tensor\n") == [(1, "tensor")]
    assert upward_imports("kernels/lstm_cell.py", "from .activations import fast_tanh\n") == []
    assert upward_imports("nn/layers.py", "from .. import optim\n") == []  # nn and optim share a level
    assert upward_imports("nn/layers.py", "from .. import train\n") == [(1, "train")]
