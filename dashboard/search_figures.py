"""Figures of a search's trials that read them together: parallel coordinates of each completed
trial's options and score, and the options' importance (fANOVA)."""

from __future__ import annotations

import json

import plotly.graph_objects as go

from dashboard.figures import LAYOUT


def parallel_figure(report: dict) -> go.Figure | None:
    """One line per completed trial through each option's axis and the score's, coloured by
    score; None with fewer than two completed trials. Options that are not numbers get one tick
    per value."""
    done = [t for t in report["trials"] if t["state"] == "complete" and t["value"] is not None]
    if len(done) < 2:
        return None
    names = sorted({k for t in done for k in t["params"]})
    dims = [_dimension(n, [t["params"].get(n) for t in done]) for n in names]
    values = [t["value"] for t in done]
    dims.append({"label": report["objective"], "values": values})
    fig = go.Figure(
        go.Parcoords(
            line={
                "color": values,
                "colorscale": "Viridis",
                "showscale": True,
                "colorbar": {"title": {"text": report["objective"]}},
            },
            dimensions=dims,
        )
    )
    fig.update_layout(
        title={"text": f"Options and {report['objective']} of each completed trial"}, **{**LAYOUT, "height": 380}
    )
    return fig


def _dimension(name: str, values: list) -> dict:
    if all(isinstance(v, int | float) and not isinstance(v, bool) for v in values):
        return {"label": name, "values": values}
    labels = sorted({json.dumps(v) for v in values})
    index = {label: i for i, label in enumerate(labels)}
    return {
        "label": name,
        "values": [index[json.dumps(v)] for v in values],
        "tickvals": list(range(len(labels))),
        "ticktext": [label.strip('"') for label in labels],
    }


def importance_figure(importance: dict[str, float], objective: str) -> go.Figure:
    names = list(reversed(importance))
    fig = go.Figure(go.Bar(x=[importance[n] for n in names], y=names, orientation="h"))
    fig.update_layout(
        title={"text": f"How much each option explains {objective} (fANOVA)"},
        xaxis_title="importance (sums to 1)",
        **LAYOUT,
    )
    return fig
