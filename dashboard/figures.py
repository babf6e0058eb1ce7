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
