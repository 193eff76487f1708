"""Every lesson in examples/lessons runs (in seconds), checks its own claims with asserts, and
prints what it teaches; the lessons that draw leave their figure behind."""
import glob
import os
import runpy

import pytest

LESSONS = sorted(glob.glob(os.path.join(os.path.dirname(__file__), "..", "examples", "lessons", "[0-9][0-9]_*.py")))
EXPECTED = {  # a line of output each lesson must print, and its figure if it draws one
    "01_autograd_graph.py": ("dy/da: autograd +0.99256374, by hand +0.99256374", "01_graph.png"),
    "02_custom_function.py": ("hypothesis: Softplus passes gradcheck on 25 drawn arrays", None),
    "03_broadcasting.py": ("gradcheck: x * b, summed over axis 0, passes", None),
    "04_convolution_im2col.py": ("largest difference from F.conv2d", None),
    "05_lstm_cell.py": ("2 Functions in the graph of h'", None),
    "06_optimizers.py": ("Adam (lr 0.3): by hand == tinynet.optim", "06_optimizer_paths.png"),
    "07_pruning_mask.py": ("a model loaded from this state dict is pruned too: True", None),
    "08_vanishing_gradients.py": ("LSTM, forget bias 3: |dL/dh_t|", "08_vanishing_gradients.png"),
    "09_debugging.py": ("caught: Sqrt backward produced inf", None),
}


def test_every_lesson_is_listed_here():
    assert [os.path.basename(path) for path in LESSONS] == sorted(EXPECTED)


@pytest.mark.parametrize("path", LESSONS, ids=os.path.basename)
def test_lesson_runs_and_shows_what_it_teaches(path, tmp_path, monkeypatch, capsys):
    monkeypatch.chdir(tmp_path)
    runpy.run_path(path, run_name="__main__")
    line, figure = EXPECTED[os.path.basename(path)]
    assert line in capsys.readouterr().out
    if figure:
        assert os.path.getsize(tmp_path / "runs" / "lessons" / figure) > 0
