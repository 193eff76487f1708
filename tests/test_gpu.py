"""GPU checks (marker ``gpu``; skipped where CuPy or a GPU is missing): the CuPy paths equal the
NumPy references, and gradients check on CuPy arrays."""
import numpy as np
import pytest
from hypothesis import assume, given
from hypothesis import strategies as st

import tinynet as tn
import tinynet.functional as F
from tinynet import backend, data, nn
from tinynet.kernels import adam, convolution, lstm_cell, pooling

from cases import adam_case, lstm_cell_case

pytestmark = pytest.mark.gpu


def gpu(array):
    return backend.require_gpu().asarray(array)


def gpu_leaf(array):
    return tn.tensor(np.asarray(array, dtype=np.float64), requires_grad=True, device="gpu", dtype=np.float64)


@given(n=st.integers(1, 3), c=st.integers(1, 3), size=st.integers(2, 9), k=st.integers(1, 4),
       stride=st.integers(1, 3), padding=st.integers(0, 2), seed=st.integers(0, 99))
def test_cupy_convolution_and_pooling_equal_numpy(n, c, size, k, stride, padding, seed):
    assume(size + 2 * padding >= k)
    x = np.random.default_rng(seed).standard_normal((n, c, size, size))
    col = convolution.im2col_reference(x, k, k, stride, padding)
    np.testing.assert_allclose(convolution.im2col(gpu(x), k, k, stride, padding).get(), col)
    np.testing.assert_allclose(convolution.col2im(gpu(col), x.shape, stride, padding).get(),
                               convolution.col2im_reference(col, x.shape, stride, padding), rtol=1e-12)
    if padding <= k // 2:
        y, arg = pooling.max_pool_forward_reference(x, k, stride, padding)
        y_gpu, arg_gpu = pooling.max_pool_forward(gpu(x), k, stride, padding)
        np.testing.assert_array_equal(y_gpu.get(), y)
        np.testing.assert_array_equal(arg_gpu.get(), arg)
        np.testing.assert_allclose(pooling.max_pool_backward(gpu(y), arg_gpu, x.shape).get(),
                                   pooling.max_pool_backward_reference(y, arg, x.shape))


@given(n=st.integers(1, 5), hidden=st.integers(1, 9), peephole=st.booleans(),
       dtype=st.sampled_from([np.float32, np.float64]), seed=st.integers(0, 99))
def test_cupy_lstm_cell_kernels_equal_numpy_reference(n, hidden, peephole, dtype, seed):
    gates, recurrent, bias, c_prev, weights, dh, g_out, dc = lstm_cell_case(n, hidden, peephole, dtype, seed)
    acts, h, c, tanh_c = gates.copy(), *(np.empty_like(c_prev) for _ in range(3))
    lstm_cell.lstm_cell_forward_reference(acts, recurrent, bias, c_prev, weights, h, c, tanh_c)
    acts_g, h_g, c_g, tanh_g = gpu(gates), *(gpu(np.empty_like(c_prev)) for _ in range(3))
    lstm_cell.lstm_cell_forward(acts_g, gpu(recurrent), gpu(bias), gpu(c_prev), gpu(weights), h_g, c_g, tanh_g)
    tolerance = dict(rtol=1e-5, atol=1e-6) if dtype == np.float32 else dict(rtol=1e-12, atol=1e-12)
    for got, expected in ((acts_g, acts), (h_g, h), (c_g, c), (tanh_g, tanh_c)):
        np.testing.assert_allclose(got.get(), expected, **tolerance)
    d_gates, dc_prev = acts.copy(), np.empty_like(c_prev)  # backward turns the activations into dL/da
    lstm_cell.lstm_cell_backward_reference(dh, g_out, dc, d_gates, c_prev, tanh_c, weights, dc_prev)
    d_gates_g, dc_prev_g = acts_g.copy(), gpu(np.empty_like(c_prev))
    lstm_cell.lstm_cell_backward(gpu(dh), gpu(g_out), gpu(dc), d_gates_g, gpu(c_prev), tanh_g, gpu(weights),
                                 dc_prev_g)
    np.testing.assert_allclose(d_gates_g.get(), d_gates, **tolerance)
    np.testing.assert_allclose(dc_prev_g.get(), dc_prev, **tolerance)


@given(size=st.integers(1, 3000), dtype=st.sampled_from([np.float32, np.float64]), step=st.integers(1, 50),
       seed=st.integers(0, 999))
def test_cupy_adam_update_equals_numpy_reference(size, dtype, step, seed):
    arrays, numbers = adam_case(size, dtype, step, seed)
    expected = [a.copy() for a in arrays]
    adam.adam_update_reference(*expected, *numbers, dtype(1))
    on_gpu = [gpu(a) for a in arrays]
    adam.adam_update(*on_gpu, *numbers)  # the ElementwiseKernel: one launch
    assert not np.array_equal(on_gpu[0].get(), arrays[0])
    for got, want in zip(on_gpu, expected):
        np.testing.assert_allclose(got.get(), want, rtol=2e-6 if dtype == np.float32 else 1e-12, atol=1e-7)


def test_gradchecks_on_cupy():
    rng = np.random.default_rng(0)
    x = gpu_leaf(rng.uniform(0.5, 2, (2, 3)))
    y = gpu_leaf(rng.uniform(0.5, 2, (1, 3)))
    for fn in (F.add, F.mul, F.div, lambda a, b: F.matmul(a, b.T), lambda a, b: F.where(a.data > 1, a, b)):
        tn.gradcheck(fn, [x, y])
    for fn in (F.exp, F.log, F.sqrt, F.tanh, F.sigmoid, F.relu, lambda t: F.max(t, 1), lambda t: F.var(t, 0),
               lambda t: t[np.array([0, 0, 1])], lambda t: F.pad(t, 1), lambda t: F.softmax(t, 1),
               lambda t: F.cross_entropy(t, np.array([2, 0]))):
        tn.gradcheck(fn, [x])
    images = gpu_leaf(rng.permutation(2 * 2 * 6 * 6).reshape(2, 2, 6, 6) * 0.1)
    w, b = gpu_leaf(rng.standard_normal((3, 2, 3, 3))), gpu_leaf(rng.standard_normal(3))
    tn.gradcheck(lambda *t: F.conv2d(*t, stride=2, padding=1), [images, w, b])
    tn.gradcheck(lambda t: F.max_pool2d(t, 2), [images])
    tn.gradcheck(lambda t: F.avg_pool2d(t, 3, 1, 1), [images])
    gamma, beta = gpu_leaf(rng.standard_normal(2)), gpu_leaf(rng.standard_normal(2))
    for training in (True, False):
        tn.gradcheck(lambda *t: F.batch_norm(t[0], gpu(np.zeros(2)), gpu(np.ones(2)), t[1], t[2], training),
                     [images, gamma, beta])


@pytest.mark.parametrize("peephole", [False, True])
def test_lstm_gradcheck_on_cupy(peephole):
    model = nn.LSTM(3, 4, num_layers=2, peephole=peephole).to("gpu")
    for p in model.parameters():
        p.data = p.data.astype(np.float64)
    rng = np.random.default_rng(1)
    x = gpu_leaf(rng.standard_normal((3, 2, 3)))
    state = (gpu_leaf(rng.standard_normal((2, 2, 4))), gpu_leaf(rng.standard_normal((2, 2, 4))))
    tn.gradcheck(lambda x, h, c: model(x, (h, c)), [x, *state])
    tn.gradcheck(lambda *w: model(x.detach(), (state[0].detach(), state[1].detach())), model.parameters())


@pytest.mark.parametrize("peephole", [False, True])
def test_lstm_whole_sequence_kernel_gradcheck(peephole, monkeypatch):
    monkeypatch.setenv("TINYNET_CUDA_LSTM_SEQUENCE", "1")
    test_lstm_gradcheck_on_cupy(peephole)


@pytest.mark.parametrize("dtype, tolerance", [(np.float32, 1e-5), (np.float64, 1e-12)])
def test_lstm_whole_sequence_kernel_equals_the_step_loop(dtype, tolerance, monkeypatch):
    """One launch for all time steps (TINYNET_CUDA_LSTM_SEQUENCE=1) against the per-step loop: outputs,
    final states and every gradient, batch_first (its output gradient arrives non-contiguous), peepholes."""
    tn.manual_seed(0)
    model = nn.LSTM(5, 7, num_layers=2, batch_first=True, peephole=True).to("gpu")
    for p in model.parameters():
        p.data = p.data.astype(dtype)
    x = np.random.default_rng(2).standard_normal((3, 6, 5)).astype(dtype)
    results, kernels = {}, {}
    for setting in ("0", "1"):
        monkeypatch.setenv("TINYNET_CUDA_LSTM_SEQUENCE", setting)
        model.zero_grad()
        inputs = tn.tensor(x, device="gpu", dtype=dtype, requires_grad=True)
        with tn.profile() as profiler:
            output, (h_n, c_n) = model(inputs)
            (output.sum() * 0.5 + (h_n * c_n).sum()).backward()
        kernels[setting] = profiler.rows["LSTMLayer"]["kernels"]
        results[setting] = [t.numpy() for t in (output, h_n, c_n)] + [backend.to_numpy(inputs.grad)] + \
            [backend.to_numpy(p.grad) for p in model.parameters()]
    assert kernels["0"] == {"lstm cell forward: cupy", "lstm cell backward: cupy"}
    assert kernels["1"] == {"lstm sequence forward: cupy", "lstm sequence backward: cupy"}
    for step_loop, sequence in zip(results["0"], results["1"]):
        np.testing.assert_allclose(sequence, step_loop, rtol=tolerance, atol=tolerance)


def test_model_on_gpu_matches_cpu():
    tn.manual_seed(0)
    cpu_model = nn.Sequential(nn.Conv2d(1, 4, 3), nn.BatchNorm2d(4), nn.ReLU(), nn.MaxPool2d(2), nn.Flatten(),
                              nn.Linear(4 * 13 * 13, 10))
    gpu_model = nn.Sequential(nn.Conv2d(1, 4, 3), nn.BatchNorm2d(4), nn.ReLU(), nn.MaxPool2d(2), nn.Flatten(),
                              nn.Linear(4 * 13 * 13, 10))
    gpu_model.load_state_dict(cpu_model.state_dict())
    gpu_model.to("gpu")
    x = np.random.default_rng(0).random((8, 1, 28, 28), dtype=np.float32)
    out_cpu = cpu_model(tn.tensor(x))
    out_gpu = gpu_model(tn.tensor(x, device="gpu"))
    assert out_gpu.device == "gpu"
    np.testing.assert_allclose(out_gpu.numpy(), out_cpu.numpy(), rtol=1e-4, atol=1e-5)
    F.cross_entropy(out_gpu, tn.tensor(np.arange(8), device="gpu")).backward()
    F.cross_entropy(out_cpu, np.arange(8)).backward()
    for p_cpu, p_gpu in zip(cpu_model.parameters(), gpu_model.parameters()):
        np.testing.assert_allclose(backend.to_numpy(p_gpu.grad), p_cpu.grad, rtol=1e-3, atol=1e-5)


def test_loader_gathers_batches_from_a_copy_on_the_gpu():
    dataset = data.ArrayDataset(np.arange(10 * 9, dtype=np.uint8).reshape(10, 3, 3), np.arange(10))
    transform = data.Compose(data.ScaleTo01(), data.AddChannel())
    on_gpu = data.DataLoader(dataset, 4, shuffle=True, seed=2, transform=transform, device="gpu")
    on_cpu = data.DataLoader(dataset, 4, shuffle=True, seed=2, transform=transform)
    for (xg, yg), (xc, yc) in zip(on_gpu, on_cpu):
        assert xg.device == "gpu" and yg.device == "gpu"
        np.testing.assert_array_equal(xg.numpy(), xc.numpy())
        np.testing.assert_array_equal(yg.numpy(), yc.numpy())
    assert not isinstance(on_gpu._device_arrays[0], np.ndarray)  # the data set lives on the GPU


def test_train_one_epoch_on_gpu_matches_cpu():
    """The training loop on the GPU (correct predictions counted there, one number read back per step)
    gives the CPU's losses and accuracies."""
    from tinynet import optim
    from tinynet.train import train_one_epoch
    rng = np.random.default_rng(0)
    dataset = data.ArrayDataset(rng.random((40, 5), dtype=np.float32), rng.integers(0, 3, 40))
    results = {}
    for device in ("cpu", "gpu"):
        tn.manual_seed(0)
        model = nn.Sequential(nn.Linear(5, 8), nn.ReLU(), nn.Linear(8, 3)).to(device)
        loader = data.DataLoader(dataset, 8, shuffle=True, seed=1, device=device)
        results[device] = train_one_epoch(model, nn.CrossEntropyLoss(), optim.SGD(model.parameters(), lr=0.1), loader)
    for key in ("batch_loss", "batch_accuracy"):
        np.testing.assert_allclose(results["gpu"][key], results["cpu"][key], rtol=1e-5)
    assert results["gpu"]["seen"] == 40
