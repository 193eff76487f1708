"""The engine's behaviour: graph walking, accumulation, freeing, no_grad, dtypes, devices, gradcheck."""
import numpy as np
import pytest

import tinynet as tn
import tinynet.functional as F
from tinynet.tensor import Function


def test_readme_example():
    x = tn.tensor([1.0, 2.0], requires_grad=True)
    (x * x).sum().backward()
    np.testing.assert_array_equal(x.grad, [2.0, 4.0])


def test_tensor_used_twice_accumulates():
    x = tn.tensor([3.0], requires_grad=True)
    y = x * x + x  # x appears three times
    y.backward()
    np.testing.assert_allclose(x.grad, [7.0])


def test_diamond_graph_gradient():
    x = tn.tensor(2.0, requires_grad=True, dtype=np.float64)
    a = x.exp()
    b = a * x
    c = a + b  # d/dx (e^x + x e^x) = e^x (2 + x)
    c.backward()
    np.testing.assert_allclose(x.grad, np.exp(2.0) * 4.0)


def test_broadcast_add_gradient_summed_to_shape():
    a = tn.tensor(np.ones((3, 4)), requires_grad=True)
    b = tn.tensor(np.ones((1, 4)), requires_grad=True)
    c = tn.tensor(np.ones(4), requires_grad=True)
    (a + b + c).sum().backward()
    assert b.grad.shape == (1, 4) and c.grad.shape == (4,)
    np.testing.assert_array_equal(b.grad, np.full((1, 4), 3.0))
    np.testing.assert_array_equal(c.grad, np.full(4, 3.0))


def test_no_grad_records_nothing():
    x = tn.tensor([1.0], requires_grad=True)
    with tn.no_grad():
        y = x * 2
    assert not y.requires_grad and y.creator is None
    assert tn.is_grad_enabled()


def test_requires_grad_propagation_and_detach():
    x = tn.tensor([1.0], requires_grad=True)
    constant = tn.tensor([5.0])
    assert (x * constant).requires_grad
    assert not (constant * 2).requires_grad
    d = (x * 2).detach()
    assert not d.requires_grad and d.creator is None


def test_graph_freed_after_backward_unless_retained():
    x = tn.tensor([1.0, 2.0], requires_grad=True)
    y = (x * x).sum()
    y.backward(retain_graph=True)
    y.backward()
    np.testing.assert_array_equal(x.grad, [4.0, 8.0])
    with pytest.raises(RuntimeError, match="second time"):
        y.backward()


def test_ten_thousand_op_chain_does_not_recurse():
    x = tn.tensor([1.0], requires_grad=True, dtype=np.float64)
    y = x
    for _ in range(10_000):
        y = y * 1.0001
    y.backward()
    np.testing.assert_allclose(x.grad, [1.0001 ** 10_000])


def test_backward_needs_scalar_or_grad():
    x = tn.tensor([1.0, 2.0], requires_grad=True)
    with pytest.raises(RuntimeError, match="one-element"):
        (x * 2).backward()
    (x * 2).backward(np.ones(2, dtype=np.float32))
    np.testing.assert_array_equal(x.grad, [2.0, 2.0])


@pytest.mark.parametrize("dtype", [np.float32, np.float64])
def test_dtype_preserved_through_ops(dtype):
    x = tn.tensor(np.linspace(0.1, 1, 12).reshape(3, 4), requires_grad=True, dtype=dtype)
    outputs = [x + 1, x * 2.5, 1 / x, x ** 2, x.exp(), x.log(), x.sqrt(), x.tanh(), x.sigmoid(), x.relu(),
               F.leaky_relu(x), x.abs(), x.clip(0.2, 0.8), x.max(0), x.sum(1), x.mean(), x.var(0),
               x @ x.T, x[1:], F.concatenate([x, x]), F.stack([x, x]), F.pad(x, 1), F.softmax(x),
               F.log_softmax(x), F.where(x.data > 0.5, x, 0.0)]
    for y in outputs:
        assert y.dtype == dtype, y
    F.stack([y.sum() for y in outputs]).sum().backward()
    assert x.grad.dtype == dtype


def test_tensor_defaults_and_repr():
    assert tn.tensor([1.0]).dtype == np.float32
    assert tn.tensor([1]).dtype.kind == "i"
    assert tn.tensor(np.zeros(2)).dtype == np.float64
    assert "requires_grad=True" in repr(tn.tensor([1.0], requires_grad=True))
    with pytest.raises(TypeError, match="floating-point"):
        tn.tensor([1, 2], requires_grad=True)


def test_gpu_request_without_gpu_names_the_fix(monkeypatch):
    from tinynet import backend
    monkeypatch.setattr(backend, "cupy", None)
    with pytest.raises(tn.DeviceError, match=r'pip install "tinynet\[gpu\]"'):
        tn.tensor([1.0], device="gpu")
    with pytest.raises(tn.DeviceError, match="CuPy"):
        tn.tensor([1.0]).to("cuda")
    with pytest.raises(ValueError, match="unknown device"):
        tn.tensor([1.0], device="tpu")


def test_gpu_request_without_visible_device(monkeypatch):
    from tinynet import backend
    monkeypatch.setattr(backend, "cupy", object())
    monkeypatch.setattr(backend, "gpu_available", lambda: False)
    with pytest.raises(tn.DeviceError, match="no CUDA GPU"):
        backend.require_gpu()


def test_manual_seed_repeats_random_draws():
    from tinynet import backend
    tn.manual_seed(3)
    first = backend.random_uniform((4,), "cpu", np.float32)
    tn.manual_seed(3)
    np.testing.assert_array_equal(first, backend.random_uniform((4,), "cpu", np.float32))


class WrongExpBackward(Function):
    def forward(self, x):
        self.y = np.exp(x)
        return self.y

    def backward(self, gy):
        return gy * self.y * 1.01  # deliberately wrong by 1 %


def test_gradcheck_catches_a_wrong_backward_and_names_the_element():
    x = tn.tensor(np.linspace(-1, 1, 6), requires_grad=True, dtype=np.float64)
    with pytest.raises(tn.GradcheckError, match=r"input 0 at index \(0,\)"):
        tn.gradcheck(lambda t: WrongExpBackward()(t), [x])
    with pytest.raises(tn.GradcheckError, match="random direction"):
        tn.gradcheck(lambda t: WrongExpBackward()(t), [x], fast_mode=True)


def test_gradcheck_reports_a_kink_as_non_differentiable():
    x = tn.tensor([0.0, 1.0], requires_grad=True, dtype=np.float64)
    with pytest.raises(tn.NonDifferentiableError, match="kink"):
        tn.gradcheck(F.relu, [x])


def test_gradcheck_fails_on_nan_instead_of_passing_it():
    """NaN is neither near nor far from anything: a check comparing differences would let it through."""
    x = tn.tensor([[1.0, 4.0]], requires_grad=True, dtype=np.float64)  # one row: its unbiased variance is NaN
    with pytest.raises(tn.GradcheckError, match="non-finite gradient for input 0 at index \\(0, 0\\)"):
        tn.gradcheck(lambda t: F.var(t, 0), [x])
    with pytest.raises(tn.GradcheckError, match="non-finite"):
        tn.gradcheck(lambda t: F.var(t, 0), [x], fast_mode=True)


def test_gradcheck_wants_float64():
    with pytest.raises(TypeError, match="float64"):
        tn.gradcheck(F.exp, [tn.tensor([1.0], requires_grad=True)])


def test_graph_dot_names_ops_and_shapes():
    from tinynet.viz import graph_dot
    x = tn.tensor(np.ones((2, 3)), requires_grad=True)
    dot = graph_dot((x * 2).sum())
    assert dot.startswith("digraph") and "Mul" in dot and "Sum" in dot and "(2, 3)" in dot


def test_retain_grad_keeps_an_intermediate_gradient():
    x = tn.tensor([1.0, -2.0, 3.0], requires_grad=True, dtype="float64")
    y = x * x
    y.retain_grad()
    (y * 3.0).sum().backward()
    np.testing.assert_array_equal(y.grad, [3.0, 3.0, 3.0])
    np.testing.assert_array_equal(x.grad, [6.0, -12.0, 18.0])


def test_hooks_see_the_complete_gradient_and_may_replace_it():
    x = tn.tensor([1.0, 2.0], requires_grad=True, dtype="float64")
    y = x * 2.0
    seen = []
    handle = y.register_hook(lambda g: seen.append(g.numpy()))
    y.register_hook(lambda g: g * 10.0)
    (y.sum() + (y * y).sum()).backward()  # y used twice: the hook gets the sum, 1 + 2y
    np.testing.assert_array_equal(seen[0], [5.0, 9.0])
    np.testing.assert_array_equal(x.grad, [100.0, 180.0])  # 2 * 10 * (1 + 2y)
    handle.remove()
    x.grad, seen[:] = None, []
    x.register_hook(lambda g: g * 0.5)  # on a leaf: before the gradient is stored
    (x * 2.0).sum().backward()
    np.testing.assert_array_equal(x.grad, [1.0, 1.0])
    assert not seen
