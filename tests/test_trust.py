"""No silent wrong result: each workflow that once gave one, and every bad input, must now either
do what PyTorch does or raise an error naming the problem."""
import json
import os
import re
import subprocess
import sys
import textwrap
import zipfile

import numpy as np
import pytest
from hypothesis import given
from hypothesis import strategies as st

import tinynet as tn
import tinynet.functional as F
from tinynet import metrics, nn, optim, prune
from tinynet.optim import StepLR
from tinynet.train import evaluate

REPO = os.path.join(os.path.dirname(__file__), "..")


def small_model():
    return nn.Sequential(nn.Linear(3, 4), nn.ReLU(), nn.Linear(4, 2))


def batch(n=8, seed=0):
    return tn.tensor(np.random.default_rng(seed).standard_normal((n, 3)), dtype=np.float32), np.arange(n) % 2


def train_steps(model, optimizer, steps=3):
    x, y = batch()
    for _ in range(steps):
        optimizer.zero_grad()
        nn.CrossEntropyLoss()(model(x), y).backward()
        optimizer.step()


# ---------------------------------------------------------------- silent wrong results
def test_load_state_dict_copies_so_training_leaves_the_source_unchanged():
    model = small_model()
    state = small_model().state_dict()
    kept = {name: array.copy() for name, array in state.items()}
    model.load_state_dict(state)
    train_steps(model, optim.Adam(model.parameters(), 0.1))
    for name in state:
        np.testing.assert_array_equal(state[name], kept[name], err_msg=name)
    assert not np.array_equal(model.state_dict()["0.weight"], kept["0.weight"])


def test_optimizer_load_state_dict_copies_too():
    model = small_model()
    optimizer = optim.Adam(model.parameters(), 0.1)
    train_steps(model, optimizer)
    saved = optimizer.state_dict()
    kept = saved["state"][0]["exp_avg"].copy()
    train_steps(model, optimizer)
    optimizer.load_state_dict(saved)
    train_steps(model, optimizer)
    np.testing.assert_array_equal(saved["state"][0]["exp_avg"], kept)


def test_pruning_at_threshold_zero_after_reload_changes_nothing():
    """The prune sweep's pattern: reload the dense state before each threshold."""
    model = small_model()
    dense = model.state_dict()
    for threshold in (0.3, 0.0):
        model.load_state_dict(dense)
        prune.by_threshold(model, threshold)
        train_steps(model, optim.Adam(model.parameters(), 0.1))
    model.load_state_dict(dense)
    assert prune.by_threshold(model, 0.0)["total"]["zeros"] == 0
    reloaded = model.state_dict()
    for name in dense:
        np.testing.assert_array_equal(reloaded[name], dense[name], err_msg=name)


def test_no_grad_can_be_reentered_and_restores_recording():
    guard = tn.no_grad()
    with guard:
        with guard:
            assert not tn.is_grad_enabled()
        assert not tn.is_grad_enabled()
    assert tn.is_grad_enabled()

    @tn.no_grad()
    def countdown(n):
        assert not tn.is_grad_enabled()
        return 0 if n == 0 else countdown(n - 1)

    countdown(3)
    assert tn.is_grad_enabled()
    w = tn.tensor([1.0, 2.0], requires_grad=True)
    assert (w * 2).requires_grad


@given(ndim=st.integers(1, 3), offset=st.integers(0, 3), name=st.sampled_from(["sum", "mean", "max", "min", "var"]))
def test_reductions_refuse_an_out_of_range_axis(ndim, offset, name):
    t = tn.tensor(np.ones((2,) * ndim))
    for axis in (ndim + offset, -ndim - 1 - offset):
        with pytest.raises(IndexError, match=f"{name}: axis {axis} is out of range for a tensor of shape"):
            getattr(t, name)(axis=axis)


def test_step_between_forward_and_backward_raises_naming_the_op():
    model = nn.Linear(3, 2)
    optimizer = optim.SGD(model.parameters(), 0.1)
    x, y = batch()
    loss = nn.CrossEntropyLoss()(model(x), y)
    optimizer.zero_grad()
    loss.backward(retain_graph=True)
    optimizer.step()
    with pytest.raises(RuntimeError, match=r"changed in place: input 1 of Linear \(a Parameter of shape \(2, 3\)"):
        loss.backward()


@pytest.mark.parametrize("change", ["load_state_dict", "prune"])
def test_other_in_place_changes_are_caught_too(change):
    model = small_model()
    x, y = batch()
    loss = nn.CrossEntropyLoss()(model(x), y)
    if change == "load_state_dict":
        model.load_state_dict(small_model().state_dict())
    else:
        prune.by_threshold(model, 0.2)
    with pytest.raises(RuntimeError, match="changed in place"):
        loss.backward()


def test_data_stays_the_unchecked_escape_hatch():
    w = tn.tensor([1.0, 2.0], requires_grad=True)
    y = (w * w).sum()
    w.data += 1  # documented: .data is not tracked
    y.backward()
    np.testing.assert_allclose(w.grad, [4.0, 6.0])


def test_every_grad_is_an_array_of_its_own():
    """Scaling or clipping one .grad in place (as after torch's clip_grad_norm_) must change no other:
    Add hands one gradient to both inputs, an LSTM layer gives b_ih and b_hh the same one, a sum's
    backward is a read-only broadcast view, and backward(grad=g) must not keep the caller's g."""
    a, b = tn.tensor([1.0, 2.0], requires_grad=True), tn.tensor([3.0, 4.0], requires_grad=True)
    total = a + b
    total.retain_grad()
    total.sum().backward()
    lstm = nn.LSTM(3, 4, num_layers=2)
    output, _ = lstm(tn.tensor(np.random.default_rng(0).standard_normal((5, 2, 3)), dtype=np.float32))
    (output * output).sum().backward()
    c, d, caller = tn.tensor([1.0, 2.0], requires_grad=True), tn.tensor([5.0, 6.0], requires_grad=True), np.ones(2)
    (c * 2 + d).backward(grad=caller)
    grads = [a.grad, b.grad, total.grad, c.grad, d.grad] + [p.grad for p in lstm.parameters()]
    before = [g.copy() for g in grads]
    for index, grad in enumerate(grads):
        grad *= 3  # each in place, as a user clipping gradients does
        for other, (g, old) in enumerate(zip(grads, before)):
            np.testing.assert_array_equal(g, old * 3 if other <= index else old)
    np.testing.assert_array_equal(caller, [1.0, 1.0])


def test_an_interrupted_evaluation_leaves_the_model_in_training_mode():
    """evaluate() switches to eval mode (dropout off); interrupted (Ctrl-C in a notebook), it must switch
    back, or the training after it would run without dropout, silently."""
    def interrupted_loader():
        x, y = batch()
        yield x, tn.tensor(y)
        raise KeyboardInterrupt

    model = nn.Sequential(nn.Linear(3, 4), nn.Dropout(0.5), nn.Linear(4, 2))
    with pytest.raises(KeyboardInterrupt):
        evaluate(model, interrupted_loader())
    assert model.training and all(module.training for module in model.modules())


RESUME_SCRIPT = textwrap.dedent("""
    import sys
    import numpy as np
    import tinynet as tn
    from tinynet import data, nn, optim
    from tinynet.train import ModelCheckpoint, fit

    mode, path, out = sys.argv[1], sys.argv[2], sys.argv[3]
    tn.manual_seed(3)
    rng = np.random.default_rng(0)
    targets = np.arange(240) % 3
    inputs = (rng.standard_normal((240, 4)) + targets[:, None]).astype(np.float32)
    loader = data.DataLoader(data.ArrayDataset(inputs, targets), 32, shuffle=True, seed=5)
    model = nn.Sequential(nn.Linear(4, 16), nn.BatchNorm1d(16), nn.ReLU(), nn.Dropout(0.3), nn.Linear(16, 3))
    optimizer = optim.Adam(model.parameters(), 0.05)
    scheduler = optim.StepLR(optimizer, step_size=2, gamma=0.3)
    start, history = 0, None
    if mode == "resume":
        meta = tn.load_checkpoint(path, model, optimizer, scheduler)
        start, history = meta["epoch"], meta["history"]
    epochs = 3 if mode == "first" else 6
    fit(model, nn.CrossEntropyLoss(), optimizer, loader, epochs=epochs, start_epoch=start, history=history,
        scheduler=scheduler, callbacks=[ModelCheckpoint(path, best_only=False)], progress=False, print_fn=None)
    tn.save(model.state_dict(), out)
""")


def test_resume_with_step_lr_adam_dropout_batchnorm_is_bit_identical_across_processes(tmp_path):
    script = tmp_path / "resume.py"
    script.write_text(RESUME_SCRIPT)
    env = dict(os.environ, PYTHONPATH=os.path.abspath(REPO))

    def run(*args):
        subprocess.run([sys.executable, str(script), *map(str, args)], check=True, env=env, cwd=tmp_path)

    run("straight", tmp_path / "a.npz", tmp_path / "straight.npz")
    run("first", tmp_path / "b.npz", tmp_path / "unused.npz")
    run("resume", tmp_path / "b.npz", tmp_path / "resumed.npz")
    straight, resumed = tn.load(tmp_path / "straight.npz"), tn.load(tmp_path / "resumed.npz")
    assert straight.keys() == resumed.keys()
    for name in straight:
        np.testing.assert_array_equal(resumed[name], straight[name], err_msg=name)


def test_scheduler_state_round_trips_and_sets_the_learning_rate():
    optimizer = optim.SGD(small_model().parameters(), 1.0)
    scheduler = StepLR(optimizer, step_size=2, gamma=0.5)
    for _ in range(5):
        scheduler.step()
    other = optim.SGD(small_model().parameters(), 1.0)
    restored = StepLR(other, step_size=2, gamma=0.5)
    restored.load_state_dict(scheduler.state_dict())
    assert other.lr == optimizer.lr == 0.25


def test_a_single_parameter_is_refused_and_duplicates_are_updated_once():
    layer = nn.Linear(3, 2)
    with pytest.raises(TypeError, match="iterable of Parameters"):
        optim.SGD(layer.weight, 0.1)
    optimizer = optim.SGD([layer.weight, layer.weight, layer.bias], lr=1.0)
    assert len(optimizer.params) == 2
    before = layer.weight.numpy()
    layer.weight.grad = np.ones((2, 3), dtype=np.float32)
    layer.bias.grad = np.zeros(2, dtype=np.float32)
    optimizer.step()
    np.testing.assert_allclose(layer.weight.numpy(), before - 1.0)


BAD_HYPERPARAMETERS = [
    (lambda p: optim.SGD(p, float("nan")), "lr"), (lambda p: optim.SGD(p, float("inf")), "lr"),
    (lambda p: optim.SGD(p, -0.1), "lr"), (lambda p: optim.SGD(p, 0.1, momentum=-0.9), "momentum"),
    (lambda p: optim.SGD(p, 0.1, weight_decay=-1e-4), "weight_decay"),
    (lambda p: optim.Adam(p, betas=(1.0, 0.999)), "beta1"), (lambda p: optim.Adam(p, betas=(0.9, -0.1)), "beta2"),
    (lambda p: optim.Adam(p, betas=(0.9, float("nan"))), "beta2"), (lambda p: optim.Adam(p, eps=-1e-8), "eps"),
    (lambda p: optim.Adam(p, lr=float("nan")), "lr"), (lambda p: optim.RMSprop(p, alpha=1.5), "alpha"),
    (lambda p: optim.RMSprop(p, alpha=-0.1), "alpha"), (lambda p: optim.RMSprop(p, eps=-1.0), "eps"),
    (lambda p: optim.RMSprop(p, momentum=-1.0), "momentum"),
    (lambda p: StepLR(optim.SGD(p, 0.1), step_size=0), "step_size"),
    (lambda p: StepLR(optim.SGD(p, 0.1), step_size=2, gamma=0.0), "gamma"),
    (lambda p: StepLR(optim.SGD(p, 0.1), step_size=2, gamma=-0.5), "gamma"),
]


@pytest.mark.parametrize("make,name", BAD_HYPERPARAMETERS)
def test_bad_hyperparameters_are_refused_by_name(make, name):
    with pytest.raises(ValueError, match=name):
        make(small_model().parameters())


def test_learning_rate_zero_is_legal_and_changes_nothing():
    model = small_model()
    before = model.state_dict()
    train_steps(model, optim.SGD(model.parameters(), lr=0.0))
    for name, array in model.state_dict().items():
        np.testing.assert_array_equal(array, before[name])


@pytest.mark.parametrize("threshold", [float("nan"), -0.1, float("inf"), "0.1"])
def test_pruning_refuses_bad_thresholds(threshold):
    with pytest.raises(ValueError, match="threshold must be a finite number >= 0"):
        prune.by_threshold(small_model(), threshold)


def test_pruning_refuses_an_empty_selection():
    with pytest.raises(ValueError, match=r"parameters=\[\] selects no weight"):
        prune.by_threshold(small_model(), 0.1, parameters=[])


def test_a_pruned_model_stays_pruned_after_save_and_load(tmp_path):
    model = small_model()
    prune.by_threshold(model, 0.3)
    tn.save(model.state_dict(), tmp_path / "pruned.npz")
    fresh = small_model()
    fresh.load_state_dict(tn.load(tmp_path / "pruned.npz"))
    zeros = [p.numpy() == 0 for _, p in prune.prunable(fresh)]
    assert sum(z.sum() for z in zeros) > 0
    train_steps(fresh, optim.Adam(fresh.parameters(), 0.1), steps=5)
    for (_, p), zero in zip(prune.prunable(fresh), zeros):
        assert (p.numpy()[zero] == 0).all()


def test_tensor_truthiness_scalars_and_identity_in_containers():
    a, b = tn.tensor([1.0, 2.0]), tn.tensor([1.0, 2.0])
    with pytest.raises(RuntimeError, match="ambiguous"):
        bool(a)
    with pytest.raises(RuntimeError, match="ambiguous"):
        assert a in [b]  # PyTorch raises here too; it used to be silently True
    assert bool(tn.tensor([3.0])) and not bool(tn.tensor(0.0))
    assert float(tn.tensor([2.5])) == 2.5 and int(tn.tensor(7.0)) == 7
    with pytest.raises(TypeError, match="one-element"):
        float(a)
    assert a in [a, b] and b in [b]
    items = [a, b]
    items.remove(a)
    assert items[0] is b
    table = {a: "a", b: "b"}
    assert table[a] == "a" and table[b] == "b" and len(table) == 2


# ---------------------------------------------------------------- clear errors
def test_conv2d_functional_refuses_mismatched_channels():
    x, w = tn.tensor(np.ones((1, 3, 5, 5), np.float32)), tn.tensor(np.ones((2, 4, 3, 3), np.float32))
    with pytest.raises(ValueError, match=r"conv2d: x has 3 channels .* the weight expects 4"):
        F.conv2d(x, w)


@pytest.mark.parametrize("make,message", [
    (lambda: nn.Conv2d(1, 2, kernel_size=0), "kernel_size must be a whole number >= 1"),
    (lambda: nn.Conv2d(1, 2, 3, stride=0), "stride must be a whole number >= 1"),
    (lambda: nn.Conv2d(1, 2, 3, padding=-1), "padding must be a whole number >= 0"),
    (lambda: nn.Linear(0, 3), "in_features must be a whole number >= 1"),
    (lambda: nn.MaxPool2d(0), "MaxPool2d: kernel_size must be"),
    (lambda: nn.AvgPool2d(2, stride=0), "AvgPool2d: stride must be"),
    (lambda: nn.LSTM(28, 0), "hidden_size must be"),
    (lambda: nn.BatchNorm2d(0), "num_features must be"),
])
def test_layer_sizes_are_checked_at_construction(make, message):
    with pytest.raises(ValueError, match=message):
        make()


def test_functional_pooling_checks_its_window():
    with pytest.raises(ValueError, match="max_pool2d: kernel_size"):
        F.max_pool2d(tn.tensor(np.ones((1, 1, 4, 4), np.float32)), 0)


def test_lstm_refuses_an_empty_sequence_and_bad_states():
    lstm, cell = nn.LSTM(3, 4, batch_first=True), nn.LSTMCell(3, 4)
    with pytest.raises(ValueError, match=r"sequence has length 0 \(shape \(2, 0, 3\), layout \(batch, seq"):
        lstm(tn.tensor(np.ones((2, 0, 3), np.float32)))  # the shape as given, not transposed
    with pytest.raises(ValueError, match=r"the batch is empty \(shape \(0, 5, 3\), layout \(batch, seq"):
        lstm(tn.tensor(np.ones((0, 5, 3), np.float32)))
    with pytest.raises(ValueError, match="LSTMCell.*the batch is empty"):
        cell(tn.tensor(np.ones((0, 3), np.float32)))
    x = tn.tensor(np.ones((2, 3), np.float32))
    with pytest.raises(ValueError, match=r"LSTMCell: c must have shape \(2, 4\), got \(2, 5\)"):
        cell(x, (tn.tensor(np.zeros((2, 4), np.float32)), tn.tensor(np.zeros((2, 5), np.float32))))
    with pytest.raises(TypeError, match="pair of Tensors"):
        cell(x, tn.tensor(np.zeros((2, 4), np.float32)))


def test_a_list_into_a_model_is_refused():
    with pytest.raises(TypeError, match="expected a tinynet Tensor, got list"):
        small_model()([[1.0, 2.0, 3.0]])


@given(shape=st.lists(st.integers(2, 4), min_size=1, max_size=3).map(tuple), extra=st.integers(1, 3))
def test_broadcasting_errors_name_the_op_and_both_shapes(shape, extra):
    a = tn.tensor(np.ones(shape, np.float32))
    other = shape[:-1] + (shape[-1] + extra,)
    b = tn.tensor(np.ones(other, np.float32))
    for op, name in ((lambda: a + b, "add"), (lambda: a * b, "mul"), (lambda: a - b, "sub"), (lambda: a / b, "div")):
        expected = re.escape(f"{name}: shapes {tuple(shape)} and {tuple(other)} do not broadcast")
        with pytest.raises(ValueError, match=expected):
            op()


def test_float64_input_into_a_float32_model_is_refused_with_the_fix():
    with pytest.raises(TypeError, match=r"astype\('float32'\)"):
        small_model()(tn.tensor(np.ones((2, 3))))
    model = small_model().double()
    assert model(tn.tensor(np.ones((2, 3)))).dtype == np.float64


@pytest.mark.parametrize("shape", [(1, 3), (0, 3), (1, 3, 1, 1), (0, 3, 4, 4)])
def test_batch_norm_refuses_to_train_on_one_value_per_channel(shape):
    """Batch statistics of one value (or none) would be a zero variance or NaN in the running buffers;
    PyTorch refuses too. Evaluation mode, which uses the running statistics, still takes any batch."""
    bn = nn.BatchNorm1d(3) if len(shape) == 2 else nn.BatchNorm2d(3)
    before = bn.state_dict()
    with pytest.raises(ValueError, match="more than one value per channel.*drop_last"):
        bn(tn.tensor(np.ones(shape, np.float32)))
    for name, array in bn.state_dict().items():
        np.testing.assert_array_equal(array, before[name])
    bn.eval()
    assert bn(tn.tensor(np.ones(shape, np.float32))).shape == shape


def test_metrics_refuse_scores_mismatched_lengths_and_labels_outside_the_classes():
    """Scores (N, C) against labels (N,) would broadcast into a meaningless accuracy; a label of -1
    would be counted for the last class."""
    with pytest.raises(ValueError, match=r"scores per class.*argmax\(axis=1\)"):
        metrics.accuracy(np.array([[0.1, 0.9], [0.8, 0.2]]), np.array([1, 0]))
    with pytest.raises(ValueError, match=r"predictions \(2,\) and targets \(3,\)"):
        metrics.accuracy(np.array([1, 2]), np.array([1, 2, 3]))
    with pytest.raises(ValueError, match=r"targets hold classes -1..0, outside \[0, 3\)"):
        metrics.confusion_matrix(np.array([0, -1]), np.array([0, 1]), 3)
    with pytest.raises(ValueError, match="integer class indices, got dtype float64"):
        metrics.confusion_matrix(np.array([0.0, 1.0]), np.array([0, 1]), 3)
    assert metrics.accuracy(np.array([1, 2, 2]), np.array([1, 2, 0])) == pytest.approx(2 / 3)
    np.testing.assert_array_equal(metrics.confusion_matrix(np.array([0, 1, 1]), np.array([0, 0, 1]), 2),
                                  [[1, 0], [1, 1]])


@pytest.mark.parametrize("mean, std", [(0.5, 0.0), (0.5, -1.0), (float("nan"), 1.0), (0.5, float("inf"))])
def test_normalize_refuses_a_std_that_would_divide_by_zero_or_flip_signs(mean, std):
    with pytest.raises(ValueError, match="std finite and > 0"):
        tn.data.Normalize(mean, std)


def test_reassigned_buffer_stays_in_the_state_dict():
    bn = nn.BatchNorm1d(3)
    bn.running_mean = np.full(3, 5.0, dtype=np.float32)
    np.testing.assert_array_equal(bn.state_dict()["running_mean"], 5.0)


# ---------------------------------------------------------------- files and checkpoints
def test_loading_a_checkpoint_into_another_optimizer_changes_nothing(tmp_path):
    model = small_model()
    optimizer = optim.Adam(model.parameters(), 0.1)
    train_steps(model, optimizer)
    tn.save_checkpoint(tmp_path / "c.npz", model, optimizer, epoch=1)
    target = small_model()
    before = target.state_dict()
    with pytest.raises(ValueError, match="holds Adam state, the optimizer given is SGD"):
        tn.load_checkpoint(tmp_path / "c.npz", target, optim.SGD(target.parameters(), 0.1))
    for name, array in target.state_dict().items():
        np.testing.assert_array_equal(array, before[name])


@pytest.mark.parametrize("damage,message", [
    (lambda meta: "{not json", "not valid JSON"),
    (lambda meta: json.dumps({**meta, "epoch": -1}), "no valid epoch"),
    (lambda meta: json.dumps({**meta, "rng": {"bit_generator": "PCG64", "state": "bad"}}), "random state is invalid"),
])
def test_damaged_checkpoint_metadata_is_refused_before_any_weight_changes(tmp_path, damage, message):
    model = small_model()
    tn.save_checkpoint(tmp_path / "c.npz", model, epoch=2)
    state = tn.load(tmp_path / "c.npz")
    state["meta"] = np.array(damage(json.loads(str(state["meta"]))))
    tn.save(state, tmp_path / "c.npz")
    target = small_model()
    before = target.state_dict()
    with pytest.raises(ValueError, match=message):
        tn.load_checkpoint(tmp_path / "c.npz", target)
    for name, array in target.state_dict().items():
        np.testing.assert_array_equal(array, before[name])


def test_load_refuses_a_tiny_file_claiming_gigabytes(tmp_path):
    header = {"descr": "<f8", "fortran_order": False, "shape": (100000, 100000)}
    path = tmp_path / "bomb.npz"
    with zipfile.ZipFile(path, "w") as archive:
        with archive.open("w.npy", "w") as member:
            np.lib.format.write_array_header_1_0(member, header)
            member.write(b"\0" * 64)
    assert os.path.getsize(path) < 1000
    with pytest.raises(ValueError, match=r"claims shape \(100000, 100000\)"):
        tn.load(path)


def test_saves_clean_up_after_a_killed_save_and_respect_the_umask(tmp_path):
    stale = tmp_path / ".tmp-w.npz.abcd1234"
    stale.write_bytes(b"partial")
    old_umask = os.umask(0o022)
    try:
        tn.save({"a": np.ones(2)}, tmp_path / "w.npz")
    finally:
        os.umask(old_umask)
    assert not stale.exists()
    assert os.stat(tmp_path / "w.npz").st_mode & 0o777 == 0o644


def test_json_outputs_never_hold_nan(tmp_path):
    from tinynet.io import write_json
    with pytest.raises(ValueError):
        write_json({"loss": float("nan")}, tmp_path / "m.json")
    assert not (tmp_path / "m.json").exists()


# ---------------------------------------------------------------- drawn by hypothesis
bad_numbers = st.one_of(st.floats(max_value=-1e-12, allow_infinity=True), st.just(float("nan")), st.just(float("inf")))


@given(lr=bad_numbers, which=st.sampled_from(["SGD", "Adam", "RMSprop"]))
def test_any_negative_or_non_finite_learning_rate_is_refused(lr, which):
    with pytest.raises(ValueError, match=f"{which}: invalid lr"):
        getattr(optim, which)(small_model().parameters(), lr=lr)


@given(beta=st.one_of(st.floats(max_value=-1e-9), st.floats(min_value=1.0), st.just(float("nan"))),
       position=st.integers(0, 1))
def test_any_beta_outside_zero_one_is_refused(beta, position):
    betas = [0.9, 0.999]
    betas[position] = beta
    with pytest.raises(ValueError, match=rf"beta{position + 1}"):
        optim.Adam(small_model().parameters(), betas=tuple(betas))


@given(channels=st.integers(1, 5), given_channels=st.integers(1, 5), size=st.integers(3, 7))
def test_conv_layers_name_a_wrong_channel_count(channels, given_channels, size):
    layer = nn.Conv2d(channels, 2, 3)
    x = tn.tensor(np.zeros((1, given_channels, size, size), np.float32))
    if given_channels == channels:
        assert layer(x).shape == (1, 2, size - 2, size - 2)
    else:
        with pytest.raises(ValueError, match=rf"Conv2d\({channels}, 2.*expected {channels} features/channels"):
            layer(x)


@given(dtype=st.sampled_from([np.float64, np.float16, np.int32, np.uint8, np.bool_]))
def test_a_wrong_input_dtype_is_named(dtype):
    with pytest.raises(TypeError, match=f"{np.dtype(dtype)}"):
        nn.Linear(3, 2)(tn.tensor(np.zeros((2, 3), dtype=dtype)))


def test_mixing_devices_names_both_and_the_fix(monkeypatch):
    """Simulated without a GPU: the device check is what runs before any CuPy or NumPy call."""
    from tinynet import backend
    on_gpu = np.zeros((2, 3), np.float32)
    real = backend.device_of
    monkeypatch.setattr(backend, "device_of", lambda a: "gpu" if a is on_gpu else real(a))
    with pytest.raises(tn.DeviceError, match=r"inputs on different devices .*\(2, 3\) on gpu.*\.to\('gpu'\)"):
        tn.tensor(np.ones((2, 3), np.float32)) + tn.Tensor(on_gpu)


def test_relu_of_minus_infinity_is_zero_and_nan_stays_nan():
    """ReLU was x * (x > 0): -inf * 0 gave NaN where PyTorch gives 0."""
    x = tn.tensor(np.array([-np.inf, -1.0, 0.0, 2.0, np.inf, np.nan], dtype=np.float32))
    np.testing.assert_array_equal(F.relu(x).numpy(), [0.0, 0.0, 0.0, 2.0, np.inf, np.nan])
    np.testing.assert_array_equal(F.leaky_relu(x, 0.5).numpy(), [-np.inf, -0.5, 0.0, 2.0, np.inf, np.nan])


@pytest.mark.parametrize("dtype", [np.float16, np.int32])
def test_a_model_cast_to_a_dtype_tinynet_does_not_compute_in_is_refused(dtype):
    """model.to_dtype(float16) was accepted, and the first conv then failed inside Numba with
    "NotImplementedError: float16"."""
    model = nn.Sequential(nn.Conv2d(1, 2, 3), nn.ReLU())
    with pytest.raises(TypeError, match="float32 or float64"):
        model.to_dtype(dtype)
    assert model[0].weight.data.dtype == np.float32  # nothing was cast


def test_max_pooling_does_not_hide_a_nan():
    """A NaN that was not first in its window lost every comparison and vanished, so a network
    gone NaN could still report a finite loss (PyTorch lets the NaN through)."""
    x = np.zeros((1, 1, 2, 2), dtype=np.float32)
    x[0, 0, 1, 1] = np.nan
    model = nn.Sequential(nn.MaxPool2d(2), nn.Flatten())
    assert np.isnan(model(tn.tensor(x)).numpy()).all()


@pytest.mark.parametrize("size, drop_last", [(0, False), (5, True)])
def test_a_loader_without_batches_is_an_error_not_a_perfect_epoch(size, drop_last):
    """An empty data set, or one smaller than a batch with drop_last=True, gave no batches, and fit and
    evaluate reported loss 0.0 (a perfect loss) and accuracy 0.0 for an epoch that never ran."""
    from tinynet.train import evaluate, fit
    dataset = tn.data.ArrayDataset(np.zeros((size, 3), np.float32), np.zeros(size, np.int64))
    loader = tn.data.DataLoader(dataset, batch_size=8, drop_last=drop_last)
    model = small_model()
    with pytest.raises(ValueError, match="no batches.*drop_last=False"):
        fit(model, nn.CrossEntropyLoss(), optim.SGD(model.parameters(), lr=0.1), loader, print_fn=None)
    with pytest.raises(ValueError, match="no batches.*nothing to measure"):
        evaluate(model, loader, nn.CrossEntropyLoss())
    with pytest.raises(ValueError, match="no examples"):
        metrics.accuracy(np.zeros(0, np.int64), np.zeros(0, np.int64))
