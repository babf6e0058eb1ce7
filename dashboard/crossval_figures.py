"""The figure of a cross-validation: its folds side by side on one figure, with the mean and the
95% interval over them."""

from __future__ import annotations

import plotly.graph_objects as go

from dashboard.figures import LAYOUT


def folds_figure(report: dict) -> go.Figure | None:
    """One point per finished fold for the cross-validation's figure (accuracy or R²), the mean as
    a line and the 95% interval as a band; None before any fold has finished. Points, not bars:
    folds differ by a point or two, which bars from zero would hide."""
    metric = report["metric"]
    done = [f for f in report["fold_results"] if metric in f["metrics"]]
    if not done:
        return None
    labels = [f"fold {f['fold']}" for f in done]
    values = [f["metrics"][metric] for f in done]
    fig = go.Figure(
        go.Scatter(
            x=labels, y=values, mode="markers+text", marker={"size": 12}, text=[f"{v:.4f}" for v in values],
            textposition="middle right", name=f"{metric} on the held-out fold",
        )
    )  # fmt: skip
    title = f"{metric} of each fold"
    summary = report["summary"].get(metric)
    if summary:
        fig.add_hrect(y0=summary["ci_low"], y1=summary["ci_high"], fillcolor="rgba(99, 110, 250, 0.15)", line_width=0)
        fig.add_hline(y=summary["mean"], line_dash="dash")
        title += (
            f": mean {summary['mean']:.4f} ± {summary['sd']:.4f} (dashed), 95% interval "
            f"{summary['ci_low']:.4f} to {summary['ci_high']:.4f} (band)"
        )
    fig.update_layout(title={"text": title}, yaxis_title=metric, **LAYOUT)
    return fig
