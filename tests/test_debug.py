"""detect_anomaly names the Function and the user's line; profile counts calls, times and kernels."""
import numpy as np
import pytest

import tinynet as tn
import tinynet.functional as F
from tinynet import instrument


def test_anomaly_in_forward_names_the_function_and_this_line():
    x = tn.tensor([1.0, -1.0], requires_grad=True)
    with np.errstate(invalid="ignore"), pytest.raises(FloatingPointError) as caught:
        with tn.detect_anomaly():
            F.log(x)  # the line the message must name
    message = str(caught.value)
    assert message.startswith("Log forward produced NaN in output 0")
    assert "test_debug.py" in message and "F.log(x)  # the line the message must name" in message
    assert instrument.monitors == []  # removed even though the block raised


def test_anomaly_in_backward_names_where_the_function_was_called():
    x = tn.tensor([0.0, 4.0], requires_grad=True)
    with np.errstate(divide="ignore"), pytest.raises(FloatingPointError, match=r"Sqrt backward produced inf .*"
                                                                               r"F\.sqrt\(x\)\.sum\(\)"):
        with tn.detect_anomaly():
            F.sqrt(x).sum().backward()


def test_no_anomaly_no_error_and_same_gradients():
    x = tn.tensor([1.0, 2.0], requires_grad=True, dtype="float64")
    with tn.detect_anomaly():
        (F.log(x) * x).sum().backward()
    np.testing.assert_allclose(x.grad, np.log([1.0, 2.0]) + 1)


@pytest.mark.parametrize("numba", ["1", "0"])
def test_profile_counts_calls_and_reports_the_kernel_version(numba, monkeypatch):
    monkeypatch.setenv("TINYNET_NUMBA", numba)
    x = tn.tensor(np.random.default_rng(0).random((2, 2, 6, 6), dtype=np.float32), requires_grad=True)
    w = tn.tensor(np.ones((3, 2, 3, 3), np.float32), requires_grad=True)  # 2 channels: the im2col path
    with tn.profile() as profiler:
        for _ in range(2):
            F.max_pool2d(F.conv2d(x, w), 2).sum().backward()
    conv, pool = profiler.rows["Conv2d"], profiler.rows["MaxPool2d"]
    assert conv["calls"] == pool["calls"] == 2 and profiler.rows["Sum"]["calls"] == 2
    version = "numba" if numba == "1" else "reference"
    assert conv["kernels"] == {f"im2col: {version}", f"col2im: {version}"}
    assert pool["kernels"] == {f"max pool forward: {version}", f"max pool backward: {version}"}
    assert conv["forward_s"] > 0 and conv["backward_s"] > 0
    assert profiler.table().splitlines()[0].split()[:2] == ["Function", "calls"]
    assert instrument.monitors == []


def test_numba_disable_jit_also_selects_the_references(monkeypatch):
    import numba
    monkeypatch.setattr(numba.config, "DISABLE_JIT", True)
    x = tn.tensor(np.ones((1, 1, 4, 4), np.float32))
    with tn.profile() as profiler:
        F.max_pool2d(x, 2)
    assert profiler.rows["MaxPool2d"]["kernels"] == {"max pool forward: reference"}
