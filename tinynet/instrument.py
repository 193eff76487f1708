"""Where the engine reports to the debugging tools of tinynet.debug (anomaly detection, the
profiler). Function calls and kernels report here; nothing listens, and nothing is timed, unless a
tool is active, so the cost outside them is one check of an empty list per Function call.

This module imports nothing from tinynet: the engine (tensor.py) and the kernels both sit above it.
"""
monitors = []  # active tools, innermost last; each has the four methods called below


def run_forward(fn, arrays):
    for monitor in monitors:
        monitor.forward_started(fn)
    outputs = fn.forward(*arrays)
    for monitor in reversed(monitors):
        monitor.forward_done(fn, outputs if isinstance(outputs, tuple) else (outputs,))
    return outputs


def run_backward(fn, grad_outputs):
    for monitor in monitors:
        monitor.backward_started(fn)
    grad_inputs = fn.backward(*grad_outputs)
    for monitor in reversed(monitors):
        monitor.backward_done(fn, grad_inputs if isinstance(grad_inputs, tuple) else (grad_inputs,))
    return grad_inputs


def kernel_ran(name, version):
    """A kernel dispatcher chose ``version`` ("numba", "reference", "cupy", "reference on CuPy")."""
    for monitor in monitors:
        monitor.kernel_ran(name, version)
