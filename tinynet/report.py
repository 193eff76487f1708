"""The report of a training run: the test accuracy and per-class table printed, and metrics.json,
history.json, weights.npz and the figures written into one folder."""
from __future__ import annotations

import os

import numpy as np

from . import metrics, viz
from .io import write_json
from .serialization import save
from .train import save_history


def write_report(out, model, history, result, test_set, train_seconds, title, settings=None, extra_metrics=None):
    """Print the test accuracy and the per-class table; write metrics.json (with ``settings``),
    history.json, weights.npz and the figures (learning curves, confusion matrix, per-class
    scores, samples) into the folder ``out``."""
    classes = test_set.classes
    predictions, targets = result["predictions"], result["targets"]
    matrix = metrics.confusion_matrix(targets, predictions, len(classes))
    scores = metrics.per_class_scores(matrix)
    loss_text = f"   test loss: {result['loss']:.4f}" if result["loss"] is not None else ""
    print(f"\ntest accuracy: {result['accuracy'] * 100:.2f}%{loss_text}")
    print(metrics.classification_report(targets, predictions, classes))
    epoch_seconds = history["epoch"]["seconds"]
    summary = {"title": title, "test_accuracy": result["accuracy"], "test_loss": result["loss"],
               "epochs": len(epoch_seconds),
               "seconds_per_epoch": float(np.mean(epoch_seconds)) if epoch_seconds else None,
               "train_seconds": train_seconds, **(settings or {}),
               "confusion_matrix": matrix.tolist(),
               "per_class": {k: (v.tolist() if hasattr(v, "tolist") else v) for k, v in scores.items()}}
    summary.update(extra_metrics or {})
    write_json(summary, os.path.join(out, "metrics.json"))
    save_history(history, os.path.join(out, "history.json"))
    save(model.state_dict(), os.path.join(out, "weights.npz"))
    viz.plot_learning_curves(history, os.path.join(out, "learning_curves.png"), title)
    viz.plot_confusion_matrix(matrix, classes, os.path.join(out, "confusion_matrix.png"), title)
    viz.plot_per_class_scores(scores, classes, os.path.join(out, "per_class_scores.png"), title)
    viz.plot_samples(test_set.inputs[:32], test_set.targets[:32], classes, os.path.join(out, "samples.png"),
                     predictions=predictions[:32])
    print(f"wrote history.json, metrics.json, weights.npz and figures to {out}/")
