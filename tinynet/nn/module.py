"""Module and Parameter: the containers that hold a model's weights, PyTorch-style.

A Module registers every Parameter, buffer (non-trained state such as batch norm's running
statistics) and sub-Module assigned to it as an attribute, in definition order; names are dotted
paths ("features.0.weight") exactly as PyTorch forms them, so state dicts carry over by name.
"""
from __future__ import annotations

from collections import OrderedDict

import numpy as np

from .. import backend
from ..tensor import Tensor, no_grad

MASK_SUFFIX = "_mask"


class Parameter(Tensor):
    """A Tensor that is a trainable weight of a Module (requires_grad=True).

    ``mask`` (None or a 0/1 array of the same shape) marks pruned weights: optimizers keep masked
    weights exactly at zero (see tinynet.prune). A module's state_dict() holds it as "<name>_mask"
    (the name torch.nn.utils.prune gives it), so a pruned model stays pruned after save and load.
    ``constraint`` (None or a callable such as optim.UnitNorm) is applied to it after every optimizer
    step. Both act through the optimizer's hooks (tinynet/optim/hooks.py).
    """

    def __init__(self, data, requires_grad: bool = True):
        data = data.data if isinstance(data, Tensor) else data
        super().__init__(data, requires_grad=requires_grad)
        self.mask = None
        self.constraint = None

    def __repr__(self):
        return "Parameter containing:\n" + super().__repr__()


class Module:
    """Base class of every layer and model: subclasses set attributes in __init__ and define forward."""

    def __init__(self):
        object.__setattr__(self, "_parameters", OrderedDict())
        object.__setattr__(self, "_buffers", OrderedDict())
        object.__setattr__(self, "_modules", OrderedDict())
        object.__setattr__(self, "training", True)

    def __setattr__(self, name, value):
        if "_parameters" not in self.__dict__:
            raise AttributeError(f"{type(self).__name__}.__init__ must call super().__init__() "
                                 f"before assigning attributes")
        if name in self._buffers and not isinstance(value, (Parameter, Module)):
            self.register_buffer(name, value)  # bn.running_mean = ... keeps it in state_dict()
            return
        for registry in (self._parameters, self._buffers, self._modules):
            registry.pop(name, None)
        if isinstance(value, Parameter):
            self._parameters[name] = value
        elif isinstance(value, Module):
            self._modules[name] = value
        object.__setattr__(self, name, value)

    def register_buffer(self, name: str, array) -> None:
        """Keep a non-trained array (saved in state_dict, moved by to())."""
        self._buffers[name] = array
        object.__setattr__(self, name, array)

    def __getattr__(self, name):  # only reached for names not found normally
        raise AttributeError(f"'{type(self).__name__}' object has no attribute '{name}'")

    # ----------------------------------------------------------------- calling
    def forward(self, *args, **kwargs):
        raise NotImplementedError(f"{type(self).__name__} must define forward()")

    def __call__(self, *args, **kwargs):
        return self.forward(*args, **kwargs)

    # ----------------------------------------------------------------- traversal
    def named_modules(self, prefix=""):
        yield prefix, self
        for name, module in self._modules.items():
            yield from module.named_modules(f"{prefix}.{name}" if prefix else name)

    def modules(self):
        return (module for _, module in self.named_modules())

    def children(self):
        return iter(self._modules.values())

    def named_parameters(self):
        seen = set()
        for prefix, module in self.named_modules():
            for name, parameter in module._parameters.items():
                if id(parameter) not in seen:
                    seen.add(id(parameter))
                    yield (f"{prefix}.{name}" if prefix else name), parameter

    def parameters(self):
        return [parameter for _, parameter in self.named_parameters()]

    def named_buffers(self):
        """(dotted name, owning module, attribute name, array) of every buffer that is set (not None)."""
        for prefix, module in self.named_modules():
            for name, array in module._buffers.items():
                if array is not None:
                    yield (f"{prefix}.{name}" if prefix else name), module, name, array

    # ----------------------------------------------------------------- modes and devices
    def train(self, mode: bool = True):
        for module in self.modules():
            object.__setattr__(module, "training", mode)
        return self

    def eval(self):
        return self.train(False)

    def zero_grad(self):
        for parameter in self.parameters():
            parameter.grad = None

    def to(self, device):
        """Move every parameter and buffer to ``device`` in place; returns self."""
        device = backend.normalize_device(device)
        for parameter in self.parameters():
            parameter.data = backend.to_device(parameter.data, device)
            if parameter.grad is not None:
                parameter.grad = backend.to_device(parameter.grad, device)
            if parameter.mask is not None:
                parameter.mask = backend.to_device(parameter.mask, device)
        for _, module, name, array in list(self.named_buffers()):
            module.register_buffer(name, backend.to_device(array, device))
        return self

    @property
    def device(self) -> str:
        parameters = self.parameters()
        return parameters[0].device if parameters else backend.CPU

    # ----------------------------------------------------------------- state
    def state_dict(self) -> "OrderedDict[str, np.ndarray]":
        """{dotted name: NumPy copy} of every parameter and buffer, in PyTorch's naming."""
        state = OrderedDict((name, backend.to_numpy(p.data).copy()) for name, p in self.named_parameters())
        for name, parameter in self.named_parameters():
            if parameter.mask is not None:
                state[name + MASK_SUFFIX] = backend.to_numpy(parameter.mask).copy()
        for name, _, _, array in self.named_buffers():
            state[name] = np.array(backend.to_numpy(array))
        return state

    def _state_targets(self) -> dict:
        """{dotted name: (dtype, shape)} of every parameter and buffer."""
        targets = {name: (p.dtype, p.shape) for name, p in self.named_parameters()}
        targets.update({name: (array.dtype, tuple(array.shape)) for name, _, _, array in self.named_buffers()})
        return targets

    def check_state_dict(self, state, strict: bool = True) -> tuple:
        """Raise ValueError listing the missing, unexpected and wrongly shaped entries of ``state``
        (with strict=False, missing and unexpected names are allowed; shapes must still match).
        Changes nothing. Returns (missing, unexpected)."""
        targets = self._state_targets()
        parameter_names = {name for name, _ in self.named_parameters()}
        masks = {name + MASK_SUFFIX: target for name, target in targets.items() if name in parameter_names}
        missing = [name for name in targets if name not in state]
        unexpected = [name for name in state if name not in targets and name not in masks]
        targets.update({name: target for name, target in masks.items() if name in state})
        wrong_shape, not_numeric = [], []
        for name, (_, shape) in targets.items():
            if name in state:
                if tuple(np.shape(state[name])) != shape:
                    wrong_shape.append(f"{name}: checkpoint {tuple(np.shape(state[name]))}, model {shape}")
                elif np.asarray(backend.to_numpy(state[name])).dtype.kind not in "biuf":
                    not_numeric.append(f"{name}: dtype {np.asarray(state[name]).dtype}")
        problems = []
        if strict and missing:
            problems.append("missing: " + ", ".join(missing))
        if strict and unexpected:
            problems.append("unexpected: " + ", ".join(unexpected))
        if wrong_shape:
            problems.append("wrong shape: " + "; ".join(wrong_shape))
        if not_numeric:
            problems.append("not numbers: " + "; ".join(not_numeric))
        if problems:
            raise ValueError(f"load_state_dict into {type(self).__name__} failed -- " + " | ".join(problems))
        return missing, unexpected

    def load_state_dict(self, state, strict: bool = True):
        """Copy the arrays of ``state`` into this model's parameters and buffers, as PyTorch does:
        the model never shares memory with ``state``, so training afterwards leaves ``state`` as it was.

        Everything is checked first (see check_state_dict); on an error nothing has changed.
        Returns (missing, unexpected).
        """
        missing, unexpected = self.check_state_dict(state, strict)
        with no_grad():
            for name, parameter in self.named_parameters():
                if name in state:
                    parameter.data[...] = backend.to_device(np.asarray(backend.to_numpy(state[name])), parameter.device)
                    parameter.mark_changed_in_place()
                    mask = state.get(name + MASK_SUFFIX)  # the state says whether the weight is pruned
                    parameter.mask = None if mask is None else backend.to_device(
                        np.array(backend.to_numpy(mask), dtype=parameter.dtype), parameter.device)
            for name, module, key, array in list(self.named_buffers()):
                if name in state:
                    module.register_buffer(key, backend.to_device(
                        np.array(backend.to_numpy(state[name]), dtype=array.dtype), backend.device_of(array)))
        return missing, unexpected

    def to_dtype(self, dtype):
        """Cast every floating-point parameter and buffer to ``dtype`` (float32 or float64) in place; returns self."""
        if np.dtype(dtype) not in (np.float32, np.float64):
            raise TypeError(f"{type(self).__name__}.to_dtype: tinynet computes in float32 or float64, got "
                            f"{np.dtype(dtype)}; use model.float() or model.double()")
        for parameter in self.parameters():
            parameter.data = parameter.data.astype(dtype)
            if parameter.mask is not None:
                parameter.mask = parameter.mask.astype(dtype)
        for _, module, name, array in list(self.named_buffers()):
            if array.dtype.kind == "f":
                module.register_buffer(name, array.astype(dtype))
        return self

    def double(self):
        """float64 parameters and buffers (for gradient checks), like torch's ``model.double()``."""
        return self.to_dtype(np.float64)

    def float(self):
        """float32 parameters and buffers, like torch's ``model.float()``."""
        return self.to_dtype(np.float32)

    # ----------------------------------------------------------------- description
    def extra_repr(self) -> str:
        return ""

    def __repr__(self):
        lines = [f"{type(self).__name__}({self.extra_repr()}"]
        for name, module in self._modules.items():
            child = repr(module).replace("\n", "\n  ")
            lines.append(f"  ({name}): {child}")
        return lines[0] + ")" if len(lines) == 1 else "\n".join(lines) + "\n)"

    def summary(self, input_shape, dtype=np.float32, print_fn=print) -> str:
        """Print (and return) a Keras-style table: each leaf layer's output shape and parameter count.

        ``input_shape`` includes the batch axis, e.g. (1, 1, 28, 28). Runs one forward pass in eval
        mode under no_grad, recording the output of every leaf module.
        """
        rows, hooks = [], []
        for name, module in self.named_modules():
            if module._modules:  # only leaf layers get a row
                continue
            original = module.forward

            def recorder(*args, _module=module, _name=name, _original=original, **kwargs):
                out = _original(*args, **kwargs)
                first = out[0] if isinstance(out, tuple) else out
                count = sum(p.size for p in _module._parameters.values())
                rows.append((_name or type(_module).__name__, type(_module).__name__, first.shape, count))
                return out

            object.__setattr__(module, "forward", recorder)
            hooks.append(module)
        was_training = self.training
        self.eval()
        try:
            xp = backend.array_module(self.device)
            with no_grad():
                self(Tensor(xp.zeros(input_shape, dtype=dtype)))
        finally:
            for module in hooks:
                del module.__dict__["forward"]
            self.train(was_training)
        total = sum(p.size for p in self.parameters())
        trainable = sum(p.size for p in self.parameters() if p.requires_grad)
        width = max([len(f"{n} ({t})") for n, t, _, _ in rows] + [20])
        header = f"{'Layer (type)':<{width}}  {'Output shape':<22}{'Params':>12}"
        lines = [header, "=" * len(header)]
        lines += [f"{f'{n} ({t})':<{width}}  {str(tuple(s)):<22}{c:>12,}" for n, t, s, c in rows]
        lines += ["=" * len(header), f"Total params: {total:,}", f"Trainable params: {trainable:,}",
                  f"Non-trainable params: {total - trainable:,}"]
        text = "\n".join(lines)
        if print_fn is not None:
            print_fn(text)
        return text


class _Container(Module):
    """Sub-modules registered as "0", "1", ... (PyTorch's names), indexable and iterable."""

    def __init__(self, modules=()):
        super().__init__()
        for module in modules:
            self.append(module)

    def append(self, module):
        setattr(self, str(len(self._modules)), module)
        return self

    def __getitem__(self, index):
        return list(self._modules.values())[index]

    def __len__(self):
        return len(self._modules)

    def __iter__(self):
        return iter(self._modules.values())


class Sequential(_Container):
    """Modules applied in order: Sequential(a, b)(x) = b(a(x))."""

    def __init__(self, *modules):
        super().__init__(modules)

    def forward(self, x):
        for module in self._modules.values():
            x = module(x)
        return x


class ModuleList(_Container):
    """A list of sub-modules (their parameters are registered); no forward of its own."""
