"""fit / evaluate, callbacks, resuming, NaN handling, metrics, figures and saving."""
import io
import json
import os

import numpy as np
import pytest
from tqdm import tqdm

import tinynet as tn
from tinynet import data, metrics, nn, optim, viz
from tinynet.train import EarlyStopping, EpochTotals, ModelCheckpoint, Progress, evaluate, fit, train_one_epoch


def blobs(n=200, seed=0):
    rng = np.random.default_rng(seed)
    targets = np.arange(n) % 2
    inputs = rng.standard_normal((n, 2)) * 0.3 + np.where(targets[:, None] == 1, 2.0, -2.0)
    return data.ArrayDataset(inputs.astype(np.float32), targets)


def mlp(dropout=0.0):
    return nn.Sequential(nn.Linear(2, 8), nn.ReLU(), nn.Dropout(dropout), nn.Linear(8, 2))


def test_fit_separable_problem_to_full_accuracy():
    model = mlp()
    loader = data.DataLoader(blobs(), 20, shuffle=True)
    history = fit(model, nn.CrossEntropyLoss(), optim.Adam(model.parameters(), 0.05), loader, epochs=5,
                  val_loader=data.DataLoader(blobs(seed=1), 50), eval_every=5, progress=False, print_fn=None)
    assert history["epoch"]["train_accuracy"][-1] == 1.0
    assert evaluate(model, data.DataLoader(blobs(), 50))["accuracy"] == 1.0
    assert len(history["batch"]["loss"]) == 50 and history["steps"]["step"][:2] == [5, 10]
    json.dumps(history)


def test_early_stopping_restores_best_weights():
    model = nn.Linear(1, 1)
    stopper = EarlyStopping(monitor="val_loss", patience=2)
    stopper.on_train_begin(model, None)
    values, stop = [1.0, 0.5, 0.7, 0.8], []
    for epoch, value in enumerate(values):
        model.weight.data[...] = epoch
        stop.append(stopper.on_epoch_end(epoch, {"val_loss": value}, model, None))
    assert stop == [False, False, False, True]
    stopper.on_train_end(model)
    assert model.weight.data[0, 0] == 1.0  # the weights of epoch 1, the best


def test_resume_from_checkpoint_equals_uninterrupted_run(tmp_path):
    def make():
        tn.manual_seed(7)
        model = mlp(dropout=0.2)
        return model, optim.Adam(model.parameters(), 0.01), data.DataLoader(blobs(), 32, shuffle=True, seed=1)

    model, optimizer, loader = make()
    fit(model, nn.CrossEntropyLoss(), optimizer, loader, epochs=3, progress=False, print_fn=None)
    straight = model.state_dict()

    model, optimizer, loader = make()
    path = tmp_path / "checkpoint.npz"
    fit(model, nn.CrossEntropyLoss(), optimizer, loader, epochs=2, progress=False, print_fn=None,
        callbacks=[ModelCheckpoint(path, best_only=False)])
    model, optimizer, loader = make()
    meta = tn.load_checkpoint(path, model, optimizer)
    assert meta["epoch"] == 2
    fit(model, nn.CrossEntropyLoss(), optimizer, loader, epochs=3, start_epoch=meta["epoch"],
        history=meta["history"], progress=False, print_fn=None)
    for name, array in model.state_dict().items():
        np.testing.assert_array_equal(array, straight[name], err_msg=name)


def test_train_one_epoch_counts_what_a_plain_loop_reading_every_step_counts():
    tn.manual_seed(0)
    model, twin = mlp(), mlp()
    twin.load_state_dict(model.state_dict())
    loader = data.DataLoader(blobs(90), 20)  # 4 batches of 20 and one of 10
    done = train_one_epoch(model, nn.CrossEntropyLoss(), optim.SGD(model.parameters(), 0.05), loader)
    loss_fn, optimizer, losses, accuracies = nn.CrossEntropyLoss(), optim.SGD(twin.parameters(), 0.05), [], []
    for x, y in loader:
        output = twin(x)
        loss = loss_fn(output, y)
        losses.append(loss.item())
        optimizer.zero_grad()
        loss.backward()
        optimizer.step()
        accuracies.append((output.argmax(axis=1) == y).sum().item() / len(y))
    assert done["batch_loss"] == losses and done["batch_accuracy"] == accuracies
    sizes = [20, 20, 20, 20, 10]
    assert done["seen"] == 90 and done["non_finite_loss"] is None
    assert done["accuracy"] == pytest.approx(np.dot(accuracies, sizes) / 90)
    assert done["loss"] == pytest.approx(np.dot(losses, sizes) / 90)
    assert len(set(accuracies)) > 2  # the accuracy moves from step to step


def test_the_progress_bar_reads_the_right_predictions_only_when_it_draws():
    totals, progress = EpochTotals(), Progress(3, 1, 1, enabled=False)
    progress.bar = tqdm(total=3, file=io.StringIO(), mininterval=3600)  # as on a terminal, drawing once an hour
    totals.add(0.5, tn.tensor(np.int64(7)), 10)
    progress.update(totals)
    assert len(totals._unread) == 1 and totals.batch_correct == []  # left where it was
    progress.bar.mininterval = 0
    totals.add(0.25, tn.tensor(np.int64(9)), 10)
    progress.update(totals)
    assert totals._unread == [] and totals.batch_correct == [7, 9]
    assert "acc=0.8000" in progress.bar.postfix and "loss=0.3750" in progress.bar.postfix
    progress.bar.mininterval = 3600
    totals.add(0.75, tn.tensor(np.int64(1)), 10)
    progress.update(totals)
    assert "loss=0.3750" in progress.bar.postfix  # not drawn yet
    progress.close()  # the last draw shows the epoch's final numbers
    assert "acc=0.5667" in progress.bar.postfix and "loss=0.5000" in progress.bar.postfix
    assert totals.result()["batch_accuracy"] == [0.7, 0.9, 0.1]


def test_nan_loss_stops_with_a_message_naming_the_step():
    model = mlp()
    calls = []

    def loss_fn(output, target):
        calls.append(1)
        loss = nn.CrossEntropyLoss()(output, target)
        return loss * float("nan") if len(calls) == 3 else loss

    messages = []
    history = fit(model, loss_fn, optim.SGD(model.parameters(), 0.1), data.DataLoader(blobs(), 20), epochs=2,
                  progress=False, print_fn=messages.append)
    assert "the loss became nan at epoch 1, step 3" in history["stopped"]
    assert messages == [history["stopped"]] and len(history["batch"]["loss"]) == 2


def test_metrics_against_hand_computed_confusion_matrix():
    targets = np.array([0, 0, 1, 1, 1, 2])
    predictions = np.array([0, 1, 1, 1, 0, 2])
    matrix = metrics.confusion_matrix(targets, predictions, 3)
    np.testing.assert_array_equal(matrix, [[1, 1, 0], [1, 2, 0], [0, 0, 1]])
    scores = metrics.per_class_scores(matrix)
    np.testing.assert_allclose(scores["precision"], [0.5, 2 / 3, 1.0])
    np.testing.assert_allclose(scores["recall"], [0.5, 2 / 3, 1.0])
    np.testing.assert_allclose(scores["f1"], [0.5, 2 / 3, 1.0])
    assert metrics.accuracy(predictions, targets) == pytest.approx(4 / 6)
    report = metrics.classification_report(targets, predictions, ["a", "b", "c"])
    assert "macro avg" in report and "0.6667" in report


def test_every_figure_writes_a_png(tmp_path):
    history = {"epoch": {"train_loss": [1.0, 0.5], "val_loss": [1.1, 0.7], "train_accuracy": [0.5, 0.8],
                         "val_accuracy": [0.4, 0.7]}, "batch": {"loss": [1.2, 1.0, 0.8]}}
    names = [str(k) for k in range(10)]
    rng = np.random.default_rng(0)
    paths = [viz.plot_learning_curves(history, tmp_path / "curves.png"),
             viz.plot_confusion_matrix(np.eye(10, dtype=int) * 5, names, tmp_path / "cm.png"),
             viz.plot_samples(rng.random((10, 28, 28)), np.arange(10), names, tmp_path / "samples.png"),
             viz.plot_per_class_scores({"precision": rng.random(10), "recall": rng.random(10), "f1": rng.random(10)},
                                       names, tmp_path / "scores.png"),
             viz.plot_weight_distribution({"before": rng.standard_normal(1000), "after": rng.standard_normal(500)},
                                          tmp_path / "kde.png")]
    for path in paths:
        with open(path, "rb") as handle:
            assert handle.read(8) == b"\x89PNG\r\n\x1a\n" and os.path.getsize(path) > 1000


def test_kde_integrates_to_one():
    points = np.linspace(-6, 6, 2001)
    density = viz.gaussian_kde(np.random.default_rng(0).standard_normal(500), points)
    assert abs(density.sum() * (points[1] - points[0]) - 1) < 1e-3


def test_save_load_atomic_and_clear_errors(tmp_path, monkeypatch):
    path = tmp_path / "weights.npz"
    tn.save({"w": np.arange(3.0)}, path)
    np.testing.assert_array_equal(tn.load(path)["w"], np.arange(3.0))
    with pytest.raises(TypeError, match="never pickles"):
        tn.save({"w": np.array([object()])}, path)

    def crash_midway(handle, **arrays):
        handle.write(b"PK partial")
        raise OSError("disk full")
    monkeypatch.setattr("tinynet.serialization.np.savez", crash_midway)
    with pytest.raises(OSError, match="disk full"):
        tn.save({"w": np.zeros(3)}, path)  # a save that dies half-way ...
    monkeypatch.undo()
    np.testing.assert_array_equal(tn.load(path)["w"], np.arange(3.0))  # ... leaves the old file intact
    assert [p.name for p in tmp_path.iterdir()] == ["weights.npz"]
    (tmp_path / "broken.npz").write_bytes(path.read_bytes()[:50])
    with pytest.raises(ValueError, match="truncated or corrupt"):
        tn.load(tmp_path / "broken.npz")
    with pytest.raises(FileNotFoundError, match="no such file"):
        tn.load(tmp_path / "missing.npz")
