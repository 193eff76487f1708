"""Smoke test of every example: quick mode on a small part of the real data, on the CPU; every
promised file appears in --out and metrics.json holds an accuracy."""
import importlib.util
import json
import os
import subprocess
import sys

import numpy as np
import pytest

EXAMPLES = os.path.join(os.path.dirname(__file__), "..", "examples")
STANDARD_FILES = {"history.json", "metrics.json", "weights.npz", "learning_curves.png", "confusion_matrix.png",
                  "per_class_scores.png", "samples.png"}


def run_example(script, argv, quick=True):
    if EXAMPLES not in sys.path:
        sys.path.insert(0, EXAMPLES)  # as when the script runs: its folder holds example_cli.py
    spec = importlib.util.spec_from_file_location(script, os.path.join(EXAMPLES, script))
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    module.main(argv + (["--quick"] if quick else []) + ["--no-progress"])


def check_outputs(folder, extra=()):
    assert STANDARD_FILES | set(extra) <= set(os.listdir(folder))
    with open(os.path.join(folder, "metrics.json")) as handle:
        metrics = json.load(handle)
    assert 0 <= metrics["test_accuracy"] <= 1 and np.array(metrics["confusion_matrix"]).sum() == 500


@pytest.mark.parametrize("script,argv,extra", [
    ("lstm_fmnist.py", [], ()),
    ("lstm_pattern_reduction.py", ["--patterns", "1000", "--by", "loss"], ()),
    ("lstm_pattern_reduction.py", ["--patterns", "1000", "--by", "random"], ()),
    ("lenet_boosting.py", ["--model", "lenet5", "--method", "average"], ()),
    ("lenet_boosting.py", ["--model", "lenet5", "--warm-start"], ()),
    ("lstm_fmnist.py", ["--cell", "composed"], ()),
    ("cnn_lstm_fmnist.py", ["--model", "model3"], ()),
    ("ann_cnn_fmnist.py", ["--model", "ann1"], ()),
    ("ann_cnn_fmnist.py", ["--model", "cnn2"], ()),
    ("lenet_resnet_fmnist.py", ["--model", "lenet5"], ()),
    ("two_layer_vs_cnn_fmnist.py", ["--model", "two_layer", "--hidden", "10"], ()),
])
def test_example_quick_run_writes_every_output(tmp_path, script, argv, extra):
    run_example(script, argv + ["--out", str(tmp_path)])
    check_outputs(tmp_path, extra)


def test_prune_sweep_writes_its_table_and_figures(tmp_path):
    run_example("lstm_fmnist.py", ["--out", str(tmp_path / "dense")])
    run_example("lstm_prune_sweep.py", ["--weights", str(tmp_path / "dense" / "weights.npz"), "--thresholds",
                                        "0.1", "0.3", "--epochs", "1", "--out", str(tmp_path / "sweep")])
    assert {"prune_table.md", "prune_table.json", "weights_kde_0.1.png", "weights_kde_0.3.png"} <= set(
        os.listdir(tmp_path / "sweep"))
    rows = json.loads((tmp_path / "sweep" / "prune_table.json").read_text())["rows"]
    assert [row["threshold"] for row in rows] == [0.1, 0.3] and rows[0]["sparsity"] < rows[1]["sparsity"]


def test_pattern_reduction_refuses_a_bad_hard_fraction(tmp_path):
    status, stderr = run_script("lstm_pattern_reduction.py", "--patterns", "100", "--by", "loss",
                                "--hard-fraction", "1.5", "--out", str(tmp_path))
    assert status != 0 and "--hard-fraction must be in [0, 1], got 1.5" in stderr and "Traceback" not in stderr


def test_two_layer_vs_cnn_refuses_a_step_budget_below_one(tmp_path):
    status, stderr = run_script("two_layer_vs_cnn_fmnist.py", "--steps", "0", "--out", str(tmp_path))
    assert status != 0 and "--steps must be >= 1 optimizer steps" in stderr and "Traceback" not in stderr


def test_boosting_augment_enlarges_the_filtered_sets_of_nets_2_and_3(tmp_path, capsys):
    run_example("lenet_boosting.py", ["--model", "lenet5", "--augment", "3", "--out", str(tmp_path)])
    out, metrics = capsys.readouterr().out, json.loads((tmp_path / "metrics.json").read_text())
    assert f"net 2 sees 3 shifted and flipped copies of its {metrics['net2_patterns']:,} patterns" in out
    assert f"net 3 sees 3 shifted and flipped copies of its {metrics['net3_patterns']:,} patterns" in out
    assert "net 1 sees" not in out  # net 1 trains on all patterns, as in the paper
    status, stderr = run_script("lenet_boosting.py", "--quick", "--augment", "-1", "--out", str(tmp_path / "bad"))
    assert status != 0 and "--augment must be >= 0 copies, got -1" in stderr and "Traceback" not in stderr
    status, stderr = run_script("lenet_boosting.py", "--quick", "--augment", "2", "--method", "average",
                                "--out", str(tmp_path / "bad"))
    assert status != 0 and "apply to --method filter" in stderr and "Traceback" not in stderr


def test_boosting_pool_filters_nets_2_and_3_from_deformed_copies(tmp_path, capsys):
    run_example("lenet_boosting.py", ["--model", "lenet5", "--pool", "2", "--out", str(tmp_path)])
    out, metrics = capsys.readouterr().out, json.loads((tmp_path / "metrics.json").read_text())
    patterns = int(out.split("boosting: net 1 on all ")[1].split(" patterns")[0].replace(",", ""))
    assert f"boosting: net 2 on {metrics['net2_patterns']:,} patterns of {3 * patterns:,}" in out
    status, stderr = run_script("lenet_boosting.py", "--quick", "--pool", "-2", "--out", str(tmp_path / "bad"))
    assert status != 0 and "--pool must be >= 0 copies, got -2" in stderr and "Traceback" not in stderr
    status, stderr = run_script("lenet_boosting.py", "--quick", "--pool", "2", "--method", "average",
                                "--out", str(tmp_path / "bad"))
    assert status != 0 and "apply to --method filter" in stderr and "Traceback" not in stderr


def test_boosting_writes_every_output_and_a_saved_ensemble_tests_the_same(tmp_path):
    run_example("lenet_boosting.py", ["--model", "lenet5", "--out", str(tmp_path / "trained")])
    check_outputs(tmp_path / "trained")
    run_example("lenet_boosting.py", ["--model", "lenet5", "--out", str(tmp_path / "reloaded"),
                                      "--weights", str(tmp_path / "trained" / "weights.npz")])
    check_outputs(tmp_path / "reloaded")
    trained, reloaded = (json.loads((tmp_path / name / "metrics.json").read_text()) for name in ("trained", "reloaded"))
    for key in ("test_accuracy", "member_test_accuracy", "disagreement_share", "accuracy_where_nets_1_2_disagree"):
        assert reloaded[key] == trained[key]


def test_sweep_writes_table_and_figure(tmp_path, monkeypatch):
    if EXAMPLES not in sys.path:
        sys.path.insert(0, EXAMPLES)
    spec = importlib.util.spec_from_file_location("sweep", os.path.join(EXAMPLES, "two_layer_vs_cnn_sweeps.py"))
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    monkeypatch.setitem(module.SWEEPS, "kernel", [2, 3])
    module.main(["kernel", "--quick", "--no-progress", "--out", str(tmp_path)])
    assert {"sweep.json", "sweep.md", "accuracy_vs_steps.png", "kernel_2", "kernel_3"} <= set(os.listdir(tmp_path))
    check_outputs(tmp_path / "kernel_3")


def test_gpu_request_without_cupy_exits_with_the_install_command(tmp_path, monkeypatch):
    from tinynet import backend
    monkeypatch.setattr(backend, "cupy", None)
    with pytest.raises(SystemExit, match=r'--device gpu: .*pip install "tinynet\[gpu\]"'):
        run_example("lstm_fmnist.py", ["--device", "gpu", "--out", str(tmp_path)])


def test_missing_weights_file_exits_clearly(tmp_path):
    with pytest.raises(SystemExit, match="cannot use --weights"):
        run_example("lenet_resnet_fmnist.py", ["--weights", str(tmp_path / "none.npz"), "--out", str(tmp_path)])


def run_script(script, *argv, env=None):
    """Run an example as a user would, in its own process; returns (exit status, stderr)."""
    done = subprocess.run([sys.executable, os.path.join(EXAMPLES, script), *argv, "--no-progress"],
                          capture_output=True, text=True, env=dict(os.environ, **(env or {})), timeout=300)
    return done.returncode, done.stderr


@pytest.mark.parametrize("argv,message", [
    (["--lr", "nan"], "--lr must be a finite number >= 0, got nan"),
    (["--epochs", "-1"], "--epochs must be >= 0, got -1"),
    (["--subset", "0"], "--subset must be >= 1"),
    (["--data-dir", "/nonexistent/folder"], "--data-dir / data_dir=/nonexistent/folder: the folder"),
    (["--device", "tpu"], "--device tpu: unknown device"),
])
def test_bad_flags_exit_with_one_clear_line_before_training(tmp_path, argv, message):
    status, stderr = run_script("lstm_fmnist.py", "--quick", "--out", str(tmp_path / "run"), *argv)
    assert status != 0
    assert message in stderr and "Traceback" not in stderr
    assert not (tmp_path / "run" / "weights.npz").exists()


def test_an_explicit_data_folder_without_the_files_is_not_silently_replaced(tmp_path):
    status, stderr = run_script("lstm_fmnist.py", "--quick", "--out", str(tmp_path / "run"),
                                env={"TINYNET_DATA": str(tmp_path)})
    assert status != 0 and f"TINYNET_DATA={tmp_path}" in stderr and "lacks train-images-idx3-ubyte" in stderr


@pytest.mark.parametrize("where", ["a_file", "a_file/sub"])
def test_an_unusable_out_is_refused_up_front(tmp_path, where):
    (tmp_path / "a_file").write_text("not a folder")
    out = tmp_path / where
    status, stderr = run_script("lstm_fmnist.py", "--quick", "--out", str(out))
    assert status != 0 and f"--out {out}" in stderr and "Traceback" not in stderr


def test_a_diverging_run_exits_non_zero_and_keeps_the_old_weights(tmp_path, monkeypatch):
    from tinynet import nn
    (tmp_path / "weights.npz").write_bytes(b"earlier results")
    calls = []
    original = nn.NLLLoss.forward

    def turns_nan(self, log_probs, target):
        calls.append(1)
        loss = original(self, log_probs, target)
        return loss * float("nan") if len(calls) >= 3 else loss

    monkeypatch.setattr(nn.NLLLoss, "forward", turns_nan)
    with pytest.raises(SystemExit) as stop:
        run_example("lstm_fmnist.py", ["--out", str(tmp_path)])
    assert "the loss became nan" in str(stop.value.code)
    assert (tmp_path / "weights.npz").read_bytes() == b"earlier results"
    assert not (tmp_path / "metrics.json").exists()
