"""Tensor and the define-by-run autograd engine.

Every differentiable operation is a ``Function``: ``forward`` maps raw backend arrays to raw
arrays, ``backward`` maps the gradient of the outputs to the gradients of the inputs. Calling a
Function on Tensors runs ``forward`` and, when a gradient is wanted, links the result to the
Function (``tensor.creator``) and the Function to its inputs: that chain *is* the graph.

``Tensor.backward`` sorts the graph's Functions topologically (an iterative depth-first search,
so a chain of 10,000 ops cannot overflow Python's stack), walks them from the output back to the
leaves, and adds up the gradients of every tensor used more than once.
"""
from __future__ import annotations

import contextlib
import weakref

import numpy as np

from . import backend, instrument

_grad_enabled = True


class no_grad(contextlib.ContextDecorator):
    """Context manager (or decorator) inside which no graph is recorded, like ``torch.no_grad``.

    Each entry pushes the state it found and each exit pops it, so the same instance may be
    entered again while active (nested ``with``, a recursive ``@no_grad()`` function)."""

    def __init__(self):
        self._previous = []

    def __enter__(self):
        global _grad_enabled
        self._previous.append(_grad_enabled)
        _grad_enabled = False

    def __exit__(self, *exc):
        global _grad_enabled
        _grad_enabled = self._previous.pop()


def is_grad_enabled() -> bool:
    return _grad_enabled


def sum_to_shape(grad, shape):
    """Undo broadcasting: sum ``grad`` over the axes that broadcasting added or stretched."""
    if grad.shape == tuple(shape):
        return grad
    extra = grad.ndim - len(shape)
    axes = tuple(range(extra)) + tuple(
        extra + i for i, n in enumerate(shape) if n == 1 and grad.shape[extra + i] != 1)
    grad = grad.sum(axis=axes, keepdims=True)
    return grad.reshape(shape)


class Function:
    """One differentiable operation. Subclasses implement ``forward`` and ``backward``.

    ``forward(*arrays)`` returns an array or a tuple of arrays. ``backward(*grad_outputs)`` gets one
    gradient per output (zeros for outputs nobody used) and returns one gradient per input (or None
    for inputs without a gradient, such as integer targets). Gradients may keep the broadcast shape;
    the engine sums them back to each input's shape. ``self.needs_input_grad`` (one bool per input)
    lets backward skip work for inputs that need no gradient, such as a network's input images.
    ``self.graph_retained`` is False while ``Tensor.backward`` runs a graph it frees afterwards (no
    ``retain_graph``): backward may then use its saved arrays as scratch space (the LSTM layer turns
    its saved activations into their gradients in place). Called in any other way it is True.
    """

    inputs = None
    graph_retained = True

    def __call__(self, *inputs):
        tensors = [x if isinstance(x, Tensor) else Tensor(x) for x in inputs]
        if len(tensors) > 1:
            _check_same_device(self.name, tensors)
        arrays = tuple(t.data for t in tensors)
        outputs = instrument.run_forward(self, arrays) if instrument.monitors else self.forward(*arrays)
        single = not isinstance(outputs, tuple)
        outputs = (outputs,) if single else outputs
        needs_grad = _grad_enabled and any(t.requires_grad for t in tensors)
        results = tuple(Tensor(y, requires_grad=needs_grad) for y in outputs)
        if needs_grad:
            self.inputs = tensors
            self.input_versions = tuple(t._version for t in tensors)
            self.needs_input_grad = tuple(t.requires_grad for t in tensors)
            self.output_meta = [(y.shape, y.dtype) for y in outputs]
            self.outputs = tuple(weakref.ref(result) for result in results)  # for hooks, retain_grad
            for index, result in enumerate(results):
                result.creator, result.output_index = self, index
        return results[0] if single else results

    def forward(self, *arrays):
        raise NotImplementedError

    def backward(self, *grad_outputs):
        raise NotImplementedError

    @property
    def name(self) -> str:
        return type(self).__name__

    def check_inputs_unchanged(self):
        """Raise if an input was changed in place (optimizer.step(), load_state_dict, pruning)
        between this Function's forward and its backward: its saved values would be stale."""
        for index, (x, version) in enumerate(zip(self.inputs, self.input_versions)):
            if x._version != version:
                kind = "a Parameter" if type(x).__name__ == "Parameter" else "a Tensor"
                raise RuntimeError(
                    f"one of the tensors needed for the gradient was changed in place: input {index} of "
                    f"{self.name} ({kind} of shape {x.shape}, dtype {x.dtype}) is at version {x._version}, "
                    f"{self.name} saved it at version {version}. Call loss.backward() before "
                    f"optimizer.step() (or load_state_dict / pruning), or recompute the forward pass.")

    def release(self):
        """Drop inputs and saved arrays once backward has used them (frees the graph)."""
        vars(self).clear()
        self.inputs = None


class _HookHandle:
    def __init__(self, tensor, hook):
        self.tensor, self.hook = weakref.ref(tensor), hook

    def remove(self):
        tensor = self.tensor()
        if tensor is not None:
            tensor._hooks = tuple(h for h in tensor._hooks if h is not self.hook)


def _watched(fn, index, grad, given):
    """The complete gradient of output ``index`` of ``fn``, after that output's hooks and retain_grad."""
    if grad is None:
        return None
    output = fn.outputs[index]()
    if output is None or not (output._hooks or output._retains_grad):
        return grad
    return output._gradient_arrived(grad, given)


def _own_array(grad, given):
    """``grad`` to keep as a tensor's ``.grad``: itself, or a copy where it is read-only (a broadcast
    view) or its memory already went to another ``.grad`` in this backward (Add hands one gradient to
    both inputs; an LSTM layer gives b_ih and b_hh the same one). So every ``.grad`` is an array of its
    own, as in PyTorch, and scaling or clipping one in place changes no other. ``given`` holds the ids
    of the memory handed out so far in this backward."""
    memory = grad
    while getattr(memory, "base", None) is not None:  # a view's memory belongs to its base
        memory = memory.base
    if id(memory) in given or not getattr(grad.flags, "writeable", True):  # CuPy arrays are always writeable
        grad = memory = grad.copy()
    given.add(id(memory))
    return grad


def _check_same_device(op_name, tensors):
    devices = {backend.device_of(t.data) for t in tensors}
    if len(devices) > 1:
        shown = ", ".join(f"{t.shape} on {backend.device_of(t.data)}" for t in tensors)
        raise backend.DeviceError(
            f"{op_name}: inputs on different devices ({shown}); move them to one device first "
            f"with tensor.to('gpu') / model.to('gpu') (or .to('cpu')).")


def _graph_order(root: Function) -> list:
    """Functions reachable from ``root``, each after every Function that consumes its outputs.

    An iterative depth-first search: a Function is appended (post-order) once all its inputs'
    creators are appended, and the reversed post-order is a topological order.
    """
    postorder, visited, stack = [], set(), [(root, False)]
    while stack:
        fn, inputs_done = stack.pop()
        if inputs_done:
            postorder.append(fn)
            continue
        if id(fn) in visited:
            continue
        visited.add(id(fn))
        if fn.inputs is None:
            raise RuntimeError(
                "Trying to backward through the graph a second time: its saved values were freed "
                "by the first backward(). Pass retain_graph=True to the first backward() call if "
                "you need to go through the graph again.")
        stack.append((fn, True))
        stack.extend((x.creator, False) for x in fn.inputs
                     if x.creator is not None and id(x.creator) not in visited)
    return postorder[::-1]


class Tensor:
    """An n-dimensional array on a device, with an optional gradient and the Function that made it.

    data: the backend array (numpy.ndarray or cupy.ndarray). Writing to it directly is the
          unchecked escape hatch (as in PyTorch); changes through tinynet's API (optimizer steps,
          load_state_dict, pruning) call ``mark_changed_in_place``, and a backward through a graph
          that saved the old values then raises instead of computing a wrong gradient.
    grad: the gradient accumulated by ``backward`` (same shape as data) or None
    """

    __array_priority__ = 100  # numpy_scalar * tensor -> Tensor.__rmul__, not an object array

    def __init__(self, data, requires_grad: bool = False):
        self.data = data
        self.grad = None
        self.requires_grad = bool(requires_grad)
        self.creator = None
        self.output_index = 0
        self._version = 0  # counts in-place changes made through tinynet's API (not via .data)
        self._hooks = ()
        self._retains_grad = False

    # ----------------------------------------------------------------- description
    shape = property(lambda self: tuple(self.data.shape))
    dtype = property(lambda self: self.data.dtype)
    ndim = property(lambda self: self.data.ndim)
    size = property(lambda self: int(self.data.size))
    device = property(lambda self: backend.device_of(self.data))
    is_leaf = property(lambda self: self.creator is None)

    def __len__(self):
        return len(self.data)

    def __bool__(self):
        if self.size != 1:
            raise RuntimeError(f"the truth value of a tensor with {self.size} elements (shape {self.shape}) "
                               f"is ambiguous; use t.any() or t.all()")
        return bool(self.data.item())

    def __float__(self):
        return float(self._one_element("float"))

    def __int__(self):
        return int(self._one_element("int"))

    def _one_element(self, kind):
        if self.size != 1:
            raise TypeError(f"{kind}() needs a one-element tensor, got shape {self.shape}; "
                            f"reduce it first (t.sum(), t.mean()) or index one element")
        return self.data.item()

    def mark_changed_in_place(self):
        """Record an in-place change of ``data`` (optimizers, load_state_dict and pruning call it),
        so that a backward through a graph that saved the old values raises instead of using them."""
        self._version += 1

    def __repr__(self):
        body = np.array2string(self.numpy(), separator=", ", prefix="tensor(")
        extras = "" if self.dtype == np.float32 else f", dtype={self.dtype}"
        extras += "" if self.device == backend.CPU else f", device='{self.device}'"
        extras += ", requires_grad=True" if self.requires_grad else ""
        return f"tensor({body}{extras})"

    # ----------------------------------------------------------------- conversion
    def numpy(self) -> np.ndarray:
        """A NumPy copy of the data, from any device."""
        return np.array(backend.to_numpy(self.data))

    def item(self):
        return self.data.item()

    def to(self, device) -> "Tensor":
        """This tensor on ``device`` (itself if already there); the copy is a new leaf."""
        if backend.normalize_device(device) == self.device:
            return self
        return Tensor(backend.to_device(self.data, device), requires_grad=self.requires_grad)

    def detach(self) -> "Tensor":
        """Same data, cut from the graph."""
        return Tensor(self.data)

    # ----------------------------------------------------------------- autograd
    def zero_grad(self):
        self.grad = None

    def retain_grad(self):
        """Keep ``.grad`` of this non-leaf tensor after backward (leaves always keep theirs)."""
        if not self.requires_grad:
            raise RuntimeError("retain_grad() on a tensor that does not require grad")
        self._retains_grad = True

    def register_hook(self, hook):
        """Call ``hook(grad)`` with this tensor's gradient (a Tensor) once backward has it complete;
        a returned Tensor or array replaces the gradient from there on, None keeps it. Returns a
        handle whose ``remove()`` unregisters the hook (PyTorch's names)."""
        if not self.requires_grad:
            raise RuntimeError("register_hook() on a tensor that does not require grad")
        self._hooks = self._hooks + (hook,)
        return _HookHandle(self, hook)

    def _run_hooks(self, grad):
        """This tensor's complete gradient after its hooks (each may return a replacement)."""
        for hook in self._hooks:
            replaced = hook(Tensor(grad))
            if replaced is not None:
                grad = replaced.data if isinstance(replaced, Tensor) else replaced
        return grad

    def _gradient_arrived(self, grad, given):
        """Run the hooks on the complete gradient; keep it in .grad if asked to. Returns it."""
        grad = self._run_hooks(grad)
        if self._retains_grad:
            self._add_to_grad(grad, given)
        return grad

    def backward(self, grad=None, retain_graph: bool = False):
        """Accumulate d(self)/d(leaf) * grad into ``leaf.grad`` for every leaf that requires grad.

        ``grad`` defaults to 1 for a one-element tensor. Without ``retain_graph`` the graph is
        freed as it is walked, and a second backward through it raises an error.
        """
        if not self.requires_grad:
            raise RuntimeError("backward() on a tensor that does not require grad: no input of "
                               "its graph has requires_grad=True (or it was made under no_grad()).")
        xp = backend.get_array_module(self.data)
        if grad is None:
            if self.size != 1:
                raise RuntimeError(f"backward() without a gradient needs a one-element tensor, got "
                                   f"shape {self.shape}; pass grad= of the same shape.")
            grad = xp.ones_like(self.data)
        grad = grad.data if isinstance(grad, Tensor) else xp.asarray(grad, dtype=self.dtype)
        if grad.shape != self.data.shape:
            raise ValueError(f"backward(grad): grad has shape {grad.shape}, tensor has {self.shape}")
        given = set()  # the memory handed to .grad arrays so far (see _own_array)
        _own_array(grad, given)  # the caller's array stays the caller's: a .grad that is it gets a copy
        if self.creator is None:
            self._accumulate(grad, given)
            return
        grads = {(id(self.creator), self.output_index): grad}
        for fn in _graph_order(self.creator):
            grad_outputs = tuple(
                grads.pop((id(fn), i), None) for i in range(len(fn.output_meta)))
            grad_outputs = tuple(_watched(fn, i, g, given) for i, g in enumerate(grad_outputs))
            grad_outputs = tuple(xp.zeros(shape, dtype) if g is None else g
                                 for g, (shape, dtype) in zip(grad_outputs, fn.output_meta))
            fn.check_inputs_unchanged()
            fn.graph_retained = retain_graph
            grad_inputs = instrument.run_backward(fn, grad_outputs) if instrument.monitors else \
                fn.backward(*grad_outputs)
            if not isinstance(grad_inputs, tuple):
                grad_inputs = (grad_inputs,)
            for x, gx in zip(fn.inputs, grad_inputs):
                if gx is None or not x.requires_grad:
                    continue
                gx = sum_to_shape(gx, x.shape)
                if x.creator is None:
                    x._accumulate(gx, given)
                else:
                    key = (id(x.creator), x.output_index)
                    grads[key] = gx if key not in grads else grads[key] + gx
            if not retain_graph:
                fn.release()

    def _accumulate(self, grad, given):
        if grad.dtype != self.dtype:
            grad = grad.astype(self.dtype)
        self._add_to_grad(self._run_hooks(grad), given)

    def _add_to_grad(self, grad, given):
        """.grad += grad, the first gradient kept as an array of its own (_own_array)."""
        self.grad = _own_array(grad, given) if self.grad is None else self.grad + grad

    # ----------------------------------------------------------------- operators
    # + - * / ** @, indexing and the differentiable methods (sum, reshape, exp, ...) are Functions
    # of tinynet.functional; functional/__init__.py installs them on Tensor (DeZero's habit), so
    # this module never imports the layer above it.

    # Comparisons carry no gradient: they return boolean tensors.
    def _compare(self, other, op):
        other = other.data if isinstance(other, Tensor) else other
        return Tensor(op(self.data, other))

    __eq__ = lambda self, other: self._compare(other, lambda a, b: a == b)  # noqa: E731
    __ne__ = lambda self, other: self._compare(other, lambda a, b: a != b)  # noqa: E731
    __lt__ = lambda self, other: self._compare(other, lambda a, b: a < b)  # noqa: E731
    __le__ = lambda self, other: self._compare(other, lambda a, b: a <= b)  # noqa: E731
    __gt__ = lambda self, other: self._compare(other, lambda a, b: a > b)  # noqa: E731
    __ge__ = lambda self, other: self._compare(other, lambda a, b: a >= b)  # noqa: E731
    __hash__ = object.__hash__

    # ----------------------------------------------------------------- methods
    def argmax(self, axis=None): return Tensor(self.data.argmax(axis=axis))
    def any(self): return Tensor(self.data.any())
    def all(self): return Tensor(self.data.all())


def tensor(data, requires_grad: bool = False, device="cpu", dtype=None) -> Tensor:
    """Make a leaf Tensor from a list, scalar, NumPy/CuPy array or Tensor.

    Floating-point data defaults to float32 (as in PyTorch); integers and booleans keep their type.
    """
    if isinstance(data, Tensor):
        data = data.data
    device = backend.normalize_device(device)
    xp = backend.array_module(device)
    if backend.device_of(data) != device:
        data = backend.to_device(data, device)
    array = xp.asarray(data, dtype=dtype)
    if dtype is None and array.dtype.kind == "f" and not hasattr(data, "dtype"):
        array = array.astype(np.float32)
    if requires_grad and array.dtype.kind != "f":
        raise TypeError(f"only floating-point tensors can require grad, got dtype {array.dtype}")
    return Tensor(array, requires_grad=requires_grad)
