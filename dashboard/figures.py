"""Plotly figure builders. Pages get figure JSON rendered from stored rows; JS extends it live."""

from __future__ import annotations

import plotly.graph_objects as go

from neural.training.models import EpochMetric

LAYOUT = {
    "margin": {"l": 50, "r": 20, "t": 40, "b": 40},
    "height": 320,
    "template": "plotly_white",
    "legend": {"orientation": "h", "y": -0.2},
}


def loss_figure(rows: list[EpochMetric]) -> go.Figure:
    epochs = [r.epoch for r in rows]
    fig = go.Figure(
        [
            go.Scatter(x=epochs, y=[r.train_loss for r in rows], name="train loss", mode="lines+markers"),
            go.Scatter(x=epochs, y=[r.val_loss for r in rows], name="validation loss", mode="lines+markers"),
        ]
    )
    fig.update_layout(title="Loss per epoch", xaxis_title="epoch", yaxis_title="loss", **LAYOUT)
    return fig


def quality_figure(rows: list[EpochMetric], task: str) -> go.Figure:
    """Validation accuracy and macro-F1 for classifiers; R² for regression."""
    epochs = [r.epoch for r in rows]
    keys = ["val_r2"] if task == "regression" else ["val_accuracy", "val_macro_f1"]
    fig = go.Figure(
        [
            go.Scatter(
                x=epochs,
                y=[r.metrics.get(k) for r in rows],
                name=k.removeprefix("val_").replace("_", " "),
                mode="lines+markers",
                meta=k,
            )
            for k in keys
        ]
    )
    title = "Validation R²" if task == "regression" else "Validation accuracy"
    fig.update_layout(title=title, xaxis_title="epoch", **LAYOUT)
    return fig


def confusion_figure(matrix: list[list[int]], classes: list) -> go.Figure:
    labels = [str(c) for c in classes]
    fig = go.Figure(
        go.Heatmap(
            z=matrix, x=labels, y=labels, colorscale="Blues", text=matrix, texttemplate="%{text}", showscale=False
        )
    )
    fig.update_layout(
        title="Confusion matrix (held-out test split)",
        xaxis_title="predicted",
        yaxis_title="actual",
        yaxis_autorange="reversed",
        **LAYOUT,
    )
    return fig


STATE_COLOURS = {"complete": "#1f77b4", "pruned": "#bbbbbb", "fail": "#d62728", "running": "#ff7f0e"}


def search_history_figure(report: dict) -> go.Figure:
    """Each trial's validation score by trial number, coloured by how it ended (a pruned trial's
    score is its last reported epoch's), with the best completed score so far as a line."""
    objective = report["objective"]
    traces = [
        go.Scatter(
            x=[t["number"] for t in trials],
            y=[t["value"] for t in trials],
            mode="markers",
            name=state,
            marker={"color": STATE_COLOURS.get(state), "size": 9},
        )
        for state in STATE_COLOURS
        if (trials := [t for t in report["trials"] if t["state"] == state and t["value"] is not None])
    ]
    pick = max if report["direction"] == "maximize" else min
    best, xs, ys = None, [], []
    for t in report["trials"]:
        if t["state"] == "complete":
            best = t["value"] if best is None else pick(best, t["value"])
        if best is not None:
            xs.append(t["number"])
            ys.append(best)
    traces.append(go.Scatter(x=xs, y=ys, mode="lines", name="best so far", line={"shape": "hv"}))
    fig = go.Figure(traces)
    fig.update_layout(title=f"Validation {objective} per trial", xaxis_title="trial", yaxis_title=objective, **LAYOUT)
    return fig


def search_size_figure(report: dict) -> go.Figure | None:
    """Completed trials by network size and score, the front of those no smaller network beats
    joined by a line; None when no trial recorded its size."""
    done = [t for t in report["trials"] if t["state"] == "complete" and t["parameters"]]
    if not done:
        return None
    by_number = {t["number"]: t for t in done}
    front = [by_number[n] for n in report["pareto"] if n in by_number]
    fig = go.Figure(
        [
            go.Scatter(
                x=[t["parameters"] for t in done],
                y=[t["value"] for t in done],
                mode="markers",
                name="trial",
                text=[f"trial {t['number']}" for t in done],
            ),
            go.Scatter(
                x=[t["parameters"] for t in front],
                y=[t["value"] for t in front],
                mode="lines+markers",
                name="no smaller network scores better",
                line={"shape": "hv"},
            ),
        ]
    )
    fig.update_layout(
        title=f"Validation {report['objective']} by network size",
        xaxis_title="parameters",
        xaxis_type="log",
        yaxis_title=report["objective"],
        **{**LAYOUT, "legend": {"orientation": "h", "y": -0.35}},  # below the tilted size ticks
    )
    return fig
