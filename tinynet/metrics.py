"""Classification metrics from predicted and true class indices (NumPy arrays)."""
from __future__ import annotations

import numpy as np


def _class_indices(predictions, targets, op, num_classes=None):
    """Both as 1-D integer arrays of one length (and inside [0, num_classes)), or a ValueError saying
    what is wrong: comparing scores (N, C) with labels (N,) would broadcast into a meaningless number,
    and a label of -1 would count for the last class."""
    predictions, targets = np.asarray(predictions), np.asarray(targets)
    if predictions.ndim == 2 and targets.ndim == 1:
        raise ValueError(f"{op}: predictions have shape {predictions.shape}, scores per class rather than "
                         f"class indices; pass scores.argmax(axis=1)")
    if predictions.shape != targets.shape or predictions.ndim != 1:
        raise ValueError(f"{op}: predictions {predictions.shape} and targets {targets.shape} must be 1-D "
                         f"class indices of the same length")
    for name, labels in (("predictions", predictions), ("targets", targets)):
        if labels.size and not (np.issubdtype(labels.dtype, np.integer) or labels.dtype == bool):
            raise ValueError(f"{op}: {name} must be integer class indices, got dtype {labels.dtype}")
        if num_classes is not None and labels.size and (labels.min() < 0 or labels.max() >= num_classes):
            raise ValueError(f"{op}: {name} hold classes {labels.min()}..{labels.max()}, outside "
                             f"[0, {num_classes})")
    return predictions, targets


def accuracy(predictions, targets) -> float:
    """Share of predictions equal to the targets (1-D class indices); no examples is an error (0.0 or 1.0
    would both be made up)."""
    predictions, targets = _class_indices(predictions, targets, "accuracy")
    if len(targets) == 0:
        raise ValueError("accuracy: no examples to score (empty predictions and targets)")
    return float((predictions == targets).mean())


def confusion_matrix(targets, predictions, num_classes) -> np.ndarray:
    """matrix[t, p] = number of examples of true class t predicted as p."""
    predictions, targets = _class_indices(predictions, targets, "confusion_matrix", num_classes)
    matrix = np.zeros((num_classes, num_classes), dtype=np.int64)
    np.add.at(matrix, (targets, predictions), 1)
    return matrix


def per_class_scores(matrix) -> dict:
    """precision = TP / predicted, recall = TP / actual, F1 = their harmonic mean (0 where undefined)."""
    matrix = np.asarray(matrix, dtype=np.float64)
    true_positive = np.diag(matrix)
    predicted, actual = matrix.sum(axis=0), matrix.sum(axis=1)
    with np.errstate(divide="ignore", invalid="ignore"):
        precision = np.where(predicted > 0, true_positive / predicted, 0.0)
        recall = np.where(actual > 0, true_positive / actual, 0.0)
        f1 = np.where(precision + recall > 0, 2 * precision * recall / (precision + recall), 0.0)
    return {"precision": precision, "recall": recall, "f1": f1, "support": actual.astype(np.int64),
            "macro_precision": float(precision.mean()), "macro_recall": float(recall.mean()),
            "macro_f1": float(f1.mean())}


def classification_report(targets, predictions, class_names) -> str:
    """A text table of per-class precision, recall, F1 and support, with macro averages."""
    matrix = confusion_matrix(targets, predictions, len(class_names))
    scores = per_class_scores(matrix)
    width = max(len(name) for name in class_names) + 2
    lines = [f"{'':<{width}}{'precision':>10}{'recall':>10}{'f1':>10}{'support':>10}"]
    for k, name in enumerate(class_names):
        lines.append(f"{name:<{width}}{scores['precision'][k]:>10.4f}{scores['recall'][k]:>10.4f}"
                     f"{scores['f1'][k]:>10.4f}{scores['support'][k]:>10d}")
    lines.append("")
    lines.append(f"{'accuracy':<{width}}{'':>10}{'':>10}{accuracy(predictions, targets):>10.4f}{len(targets):>10d}")
    lines.append(f"{'macro avg':<{width}}{scores['macro_precision']:>10.4f}{scores['macro_recall']:>10.4f}"
                 f"{scores['macro_f1']:>10.4f}{len(targets):>10d}")
    return "\n".join(lines)
