"""The figure of a cross-validation: its folds side by side on one figure, with the mean and the
95% interval over them."""

from __future__ import annotations

import plotly.graph_objects as go

from dashboard.figures import LAYOUT


def folds_figure(report: dict) -> go.Figure | None:
    """One bar per finished fold for the cross-validation's figure (accuracy or R²), the mean as
    a line and the 95% interval as a band; None before any fold has finished."""
    metric = report["metric"]
    done = [f for f in report["fold_results"] if metric in f["metrics"]]
    if not done:
        return None
    labels = [f"fold {f['fold']}" for f in done]
    fig = go.Figure(go.Bar(x=labels, y=[f["metrics"][metric] for f in done], name=f"{metric} on the held-out fold"))
    summary = report["summary"].get(metric)
    if summary:
        fig.add_hrect(
            y0=summary["ci_low"], y1=summary["ci_high"], fillcolor="rgba(99, 110, 250, 0.15)", line_width=0,
            annotation_text="95% interval", annotation_position="top left",
        )  # fmt: skip
        fig.add_hline(
            y=summary["mean"], line_dash="dash",
            annotation_text=f"mean {summary['mean']:.4f} ± {summary['sd']:.4f}", annotation_position="bottom right",
        )  # fmt: skip
    fig.update_layout(title={"text": f"{metric} of each fold"}, yaxis_title=metric, **LAYOUT)
    return fig
