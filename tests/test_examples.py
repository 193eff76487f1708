"""Smoke test of every example: quick mode on a small part of the real data, on the CPU; every
promised file appears in --out and metrics.json holds an accuracy."""
import importlib.util
import json
import os

import numpy as np
import pytest

EXAMPLES = os.path.join(os.path.dirname(__file__), "..", "examples")
STANDARD_FILES = {"history.json", "metrics.json", "weights.npz", "learning_curves.png", "confusion_matrix.png",
                  "per_class_scores.png", "samples.png"}


def run_example(script, argv):
    spec = importlib.util.spec_from_file_location(script, os.path.join(EXAMPLES, script))
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    module.main(argv + ["--quick", "--no-progress"])


def check_outputs(folder, extra=()):
    assert STANDARD_FILES | set(extra) <= set(os.listdir(folder))
    with open(os.path.join(folder, "metrics.json")) as handle:
        metrics = json.load(handle)
    assert 0 <= metrics["test_accuracy"] <= 1 and np.array(metrics["confusion_matrix"]).sum() == 500


@pytest.mark.parametrize("script,argv,extra", [
    ("lstm_fmnist.py", [], ()),
    ("lstm_fmnist.py", ["--prune-threshold", "0.1", "--retrain-epochs", "1"],
     ("prune_table.md", "prune_table.json", "weights_kde_0.1.png")),
    ("lstm_fmnist.py", ["--subset", "1000", "--subset-by", "loss"], ()),
    ("cnn_lstm_fmnist.py", ["--model", "model3"], ()),
    ("ann_cnn_fmnist.py", ["--model", "ann1"], ()),
    ("ann_cnn_fmnist.py", ["--model", "cnn2"], ()),
    ("lenet_resnet_fmnist.py", ["--model", "lenet5"], ()),
    ("two_layer_vs_cnn_fmnist.py", ["--model", "two_layer", "--hidden", "10"], ()),
])
def test_example_quick_run_writes_every_output(tmp_path, script, argv, extra):
    run_example(script, argv + ["--out", str(tmp_path)])
    check_outputs(tmp_path, extra)


def test_boosting_writes_every_output_and_a_saved_ensemble_tests_the_same(tmp_path):
    run_example("lenet_resnet_fmnist.py", ["--model", "lenet5", "--boost", "--out", str(tmp_path / "trained")])
    check_outputs(tmp_path / "trained")
    run_example("lenet_resnet_fmnist.py", ["--model", "lenet5", "--boost", "--out", str(tmp_path / "reloaded"),
                                           "--weights", str(tmp_path / "trained" / "weights.npz")])
    check_outputs(tmp_path / "reloaded")
    trained, reloaded = (json.loads((tmp_path / name / "metrics.json").read_text()) for name in ("trained", "reloaded"))
    for key in ("test_accuracy", "member_test_accuracy", "disagreement_share", "accuracy_where_nets_1_2_disagree"):
        assert reloaded[key] == trained[key]


def test_sweep_writes_table_and_figure(tmp_path, monkeypatch):
    spec = importlib.util.spec_from_file_location("sweep", os.path.join(EXAMPLES, "two_layer_vs_cnn_fmnist.py"))
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    monkeypatch.setitem(module.SWEEPS, "kernel", [2, 3])
    module.main(["--sweep", "kernel", "--quick", "--no-progress", "--out", str(tmp_path)])
    assert {"sweep.json", "sweep.md", "accuracy_vs_steps.png", "kernel_2", "kernel_3"} <= set(os.listdir(tmp_path))
    check_outputs(tmp_path / "kernel_3")


def test_gpu_request_without_cupy_exits_with_the_install_command(tmp_path, monkeypatch):
    from tinynet import backend
    monkeypatch.setattr(backend, "cupy", None)
    with pytest.raises(backend.DeviceError, match=r'pip install "tinynet\[gpu\]"'):
        run_example("lstm_fmnist.py", ["--device", "gpu", "--out", str(tmp_path)])


def test_missing_weights_file_exits_clearly(tmp_path):
    with pytest.raises(SystemExit, match="cannot use --weights"):
        run_example("lenet_resnet_fmnist.py", ["--weights", str(tmp_path / "none.npz"), "--out", str(tmp_path)])
