"""Pictures: the autograd graph as Graphviz DOT, and matplotlib figures written to PNG files.

Figures are drawn on ``matplotlib.figure.Figure`` objects directly (no pyplot state, no display),
so they work headless, in tests and on servers.
"""
from __future__ import annotations

import numpy as np
from matplotlib.figure import Figure

from .backend import to_numpy
from .io import atomic_write
from .tensor import _graph_order


# ---------------------------------------------------------------------------- the graph
def graph_edges(output):
    """The graph that produced ``output``: (tensors, functions, edges). Edges run input -> Function
    -> output, as ("t", id) / ("f", id) node keys; tensors and functions map those ids to objects."""
    tensors, functions, edges, stack = {id(output): output}, {}, [], [output]
    while stack:
        t = stack.pop()
        fn = t.creator
        if fn is None or fn.inputs is None:
            continue
        edges.append((("f", id(fn)), ("t", id(t))))
        if id(fn) in functions:
            continue
        functions[id(fn)] = fn
        for x in fn.inputs:
            edges.append((("t", id(x)), ("f", id(fn))))
            if id(x) not in tensors:
                tensors[id(x)] = x
                stack.append(x)
    return tensors, functions, list(dict.fromkeys(edges))


def describe(t, statistics=True) -> str:
    """A tensor's shape and dtype, its device if not the CPU, and the mean/std of its value and gradient."""
    text = f"{t.shape} {t.dtype}" + ("" if t.device == "cpu" else f" {t.device}")
    if statistics and t.size:
        value = to_numpy(t.data).astype(np.float64)
        text += f"\nvalue {value.mean():.3g} +- {value.std():.3g}"
        if t.grad is not None:
            grad = to_numpy(t.grad).astype(np.float64)
            text += f"\ngrad {grad.mean():.3g} +- {grad.std():.3g}"
    return text


def graph_dot(output) -> str:
    """Graphviz DOT text of the graph that produced ``output``: tensors as ovals, Functions as boxes.

    Render with ``dot -Tpng graph.dot -o graph.png`` if Graphviz is installed (DeZero's habit), or
    draw it without Graphviz with ``plot_graph``.
    """
    tensors, functions, edges = graph_edges(output)
    lines = ["digraph tinynet {", '  node [fontname="Helvetica"];']
    lines += [f'  t{key} [label="{describe(t, False)}", shape=ellipse, style=filled, fillcolor="#ddeeff"];'
              for key, t in tensors.items()]
    lines += [f'  f{key} [label="{fn.name}", shape=box, style=filled, fillcolor="#ffe8cc"];'
              for key, fn in functions.items()]
    lines += [f"  {a[0]}{a[1]} -> {b[0]}{b[1]};" for a, b in edges]
    return "\n".join(lines + ["}"])


def plot_graph(output, path, title="Autograd graph", statistics=True) -> str:
    """Draw the graph that produced ``output`` with matplotlib (no Graphviz needed): inputs on the
    left, ``output`` on the right, Functions as orange boxes, tensors as blue boxes labelled with
    shape and dtype and, with ``statistics``, the mean and spread of the value and of the gradient."""
    tensors, functions, edges = graph_edges(output)
    consumers = {}
    for a, b in edges:
        consumers.setdefault(a, []).append(b)
    column = {("t", id(output)): 0}  # distance from the output, longest path
    # the engine's own order: each Function after every Function that consumes its outputs
    for fn in _graph_order(output.creator) if output.creator is not None and functions else ():
        column[("f", id(fn))] = 1 + max(column[t] for t in consumers[("f", id(fn))])
        for x in fn.inputs:
            column[("t", id(x))] = max(column.get(("t", id(x)), 0), column[("f", id(fn))] + 1)
    width = max(column.values()) + 1
    rows = {}
    for node in sorted(column, key=lambda n: (column[n], n)):
        rows.setdefault(column[node], []).append(node)
    place = {node: (width - 1 - c, (len(nodes) - 1) / 2 - i)
             for c, nodes in rows.items() for i, node in enumerate(nodes)}
    height = max(len(nodes) for nodes in rows.values())
    figure = Figure(figsize=(max(6, 2.6 * width), max(3, 1.3 * height)))
    ax = figure.subplots()
    for a, b in edges:
        ax.annotate("", xy=place[b], xytext=place[a],
                    arrowprops={"arrowstyle": "->", "color": "0.5", "shrinkA": 28, "shrinkB": 28})
    for node, (x, y) in place.items():
        kind, key = node
        text = functions[key].name if kind == "f" else describe(tensors[key], statistics)
        ax.text(x, y, text, ha="center", va="center", fontsize=7,
                bbox={"boxstyle": "round", "facecolor": "#ffe8cc" if kind == "f" else "#ddeeff"})
    ax.set_xlim(-0.7, width - 0.3)
    ax.set_ylim(-height / 2 - 0.2, height / 2 + 0.2)
    ax.set_axis_off()
    ax.set_title(title)
    return save_figure(figure, path)


# ---------------------------------------------------------------------------- figures
def save_figure(figure: Figure, path) -> str:
    """Write the figure as PNG, atomically."""
    return atomic_write(path, lambda out: figure.savefig(out, format="png", dpi=110, bbox_inches="tight"))


def plot_learning_curves(history: dict, path, title="Learning curves") -> str:
    """Loss and accuracy per epoch, train and validation (history from tinynet.train.fit)."""
    epochs = history.get("epoch", {})
    figure = Figure(figsize=(10, 4.4), layout="constrained")  # keeps the title clear of the top "batch" axis
    for ax, metric in zip(figure.subplots(1, 2), ("loss", "accuracy")):
        for split in ("train", "val"):
            values = epochs.get(f"{split}_{metric}")
            if values:
                ax.plot(range(1, len(values) + 1), values, marker="o", label=split)
        steps = history.get("batch", {}).get(metric)
        if metric == "loss" and steps:
            twin = ax.twiny()
            twin.plot(steps, color="grey", alpha=0.25, linewidth=0.6)
            twin.set_xlabel("batch", color="grey")
        ax.set_xlabel("epoch")
        ax.set_ylabel(metric)
        ax.grid(alpha=0.3)
        if ax.get_legend_handles_labels()[0]:  # nothing to label after 0 epochs
            ax.legend()
    figure.suptitle(title)
    return save_figure(figure, path)


def plot_confusion_matrix(matrix, class_names, path, title="Confusion matrix") -> str:
    """Heat map with the count in every cell; rows are true classes, columns predictions."""
    matrix = np.asarray(matrix)
    figure = Figure(figsize=(8, 7))
    ax = figure.subplots()
    image = ax.imshow(matrix, cmap="Blues")
    figure.colorbar(image, ax=ax)
    ticks = np.arange(len(class_names))
    ax.set_xticks(ticks, class_names, rotation=45, ha="right")
    ax.set_yticks(ticks, class_names)
    threshold = matrix.max() / 2 if matrix.size else 0
    for (row, col), count in np.ndenumerate(matrix):
        ax.text(col, row, str(count), ha="center", va="center", fontsize=8,
                color="white" if count > threshold else "black")
    ax.set_xlabel("predicted")
    ax.set_ylabel("true")
    ax.set_title(title)
    return save_figure(figure, path)


def plot_samples(images, labels, class_names, path, predictions=None, columns=8) -> str:
    """A grid of images (N, 28, 28) or (N, 1, 28, 28) titled with their labels (and predictions)."""
    images = to_numpy(images).reshape(len(images), images.shape[-2], images.shape[-1])
    rows = int(np.ceil(len(images) / columns))
    figure = Figure(figsize=(columns * 1.3, rows * 1.5))
    axes = np.atleast_1d(figure.subplots(rows, columns)).ravel()
    for k, ax in enumerate(axes):
        ax.axis("off")
        if k < len(images):
            ax.imshow(images[k], cmap="gray")
            title = class_names[int(labels[k])]
            if predictions is not None:
                title += f"\n({class_names[int(predictions[k])]})"
            ax.set_title(title, fontsize=7)
    return save_figure(figure, path)


def plot_per_class_scores(scores: dict, class_names, path, title="Per-class scores") -> str:
    """Grouped bars of precision, recall and F1 per class (scores from metrics.per_class_scores)."""
    figure = Figure(figsize=(11, 4))
    ax = figure.subplots()
    x = np.arange(len(class_names))
    for offset, metric in zip((-0.27, 0, 0.27), ("precision", "recall", "f1")):
        ax.bar(x + offset, scores[metric], width=0.27, label=metric)
    ax.set_xticks(x, class_names, rotation=30, ha="right")
    ax.set_ylim(0, 1.05)
    ax.legend(loc="lower right")
    ax.set_title(title)
    return save_figure(figure, path)


def gaussian_kde(values, points):
    """Kernel density estimate at ``points`` with Scott's bandwidth 1.06 * std * n^(-1/5)."""
    values = np.asarray(values, dtype=np.float64).ravel()
    bandwidth = max(1.06 * values.std() * len(values) ** -0.2, 1e-6)
    density = np.zeros_like(points, dtype=np.float64)
    for chunk in np.array_split(values, max(1, len(values) // 20000)):
        density += np.exp(-0.5 * ((points[:, None] - chunk[None, :]) / bandwidth) ** 2).sum(axis=1)
    return density / (len(values) * bandwidth * np.sqrt(2 * np.pi))


def plot_weight_distribution(weight_sets: dict, path, title="Weight distribution", max_points=50000) -> str:
    """Histogram + KDE of each named set of weights, overlaid (e.g. before / after pruning)."""
    figure = Figure(figsize=(8, 4))
    ax = figure.subplots()
    rng = np.random.default_rng(0)
    all_values = np.concatenate([np.ravel(v) for v in weight_sets.values()])
    points = np.linspace(all_values.min(), all_values.max(), 400)
    for name, values in weight_sets.items():
        values = np.ravel(values)
        sample = values if len(values) <= max_points else rng.choice(values, max_points, replace=False)
        ax.hist(values, bins=100, density=True, alpha=0.3, label=f"{name} (histogram)")
        ax.plot(points, gaussian_kde(sample, points), label=f"{name} (KDE)")
    ax.set_xlabel("weight value")
    ax.set_ylabel("density")
    ax.legend()
    ax.set_title(title)
    return save_figure(figure, path)
