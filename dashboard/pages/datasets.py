"""Data set pages: list with the upload and generator forms, and a version's detail (schema,
quality report charts, versions tree, sample rows). Uploads go to the REST API from the browser
(so the page can show progress); the generator form posts here and calls the same service as
`data generate`."""

from __future__ import annotations

import itertools
import json

import plotly.graph_objects as go
from django.contrib.auth.decorators import login_required
from django.shortcuts import redirect, render
from django.urls import path
from django.views.decorators.http import require_POST

from neural.api.permissions import VIEWER_MESSAGE, is_viewer
from neural.datasets.generator import GENERATORS
from neural.datasets.importers import REGISTRY
from neural.datasets.models import Pattern
from neural.datasets.selectors import dataset_by_id, dataset_family, dataset_list, dataset_sample
from neural.datasets.versions import dataset_generate
from neural.engine.schema import ColumnKind
from neural.errors import EngineError, NotFound

LAYOUT = {"margin": {"l": 40, "r": 10, "t": 36, "b": 60}, "height": 260, "template": "plotly_white"}
MAX_CHARTS = 24


def _page_context(**extra) -> dict:
    return {
        "datasets": dataset_list()[:200],
        "formats": sorted(REGISTRY.items()),
        "patterns": Pattern.values,
        "generator_patterns": sorted(GENERATORS),
        **extra,
    }


@login_required
def dataset_index(request):
    return render(request, "dashboard/datasets/list.html", _page_context())


@login_required
@require_POST
def dataset_generate_form(request):
    if is_viewer(request.user):
        return render(request, "dashboard/datasets/list.html", _page_context(generate_error=VIEWER_MESSAGE), status=403)
    form = request.POST
    try:
        rows = int(form.get("rows", ""))
        seed = int(form.get("seed") or 0)
    except ValueError:
        return _form_error(request, "rows and seed must be whole numbers")
    if not 20 <= rows <= 200_000:
        return _form_error(request, "rows must be from 20 to 200,000 on this form (use the CLI for more)")
    try:
        ds = dataset_generate(
            pattern=form.get("pattern", ""), rows=rows, name=form.get("name", ""), seed=seed, drift="drift" in form
        )
    except EngineError as exc:
        return _form_error(request, exc.message)
    return redirect("dataset-page", pk=ds.pk)


def _form_error(request, message: str):
    return render(request, "dashboard/datasets/list.html", _page_context(generate_error=message), status=400)


@login_required
def dataset_detail(request, pk: int):
    try:
        ds = dataset_by_id(pk=pk)
    except NotFound:
        return render(request, "dashboard/not_found.html", {"what": f"data set {pk}"}, status=404)
    quality = ds.quality or {}
    sample = dataset_sample(dataset=ds, limit=20)
    context = {
        "ds": ds,
        "quality": quality,
        "family": dataset_family(dataset=ds),
        "sample_columns": ds.columns,
        "sample_rows": [[row.get(c) for c in ds.columns] for row in sample],
        "charts": column_figures(quality, ds.schema),
        "missing_fig": _plain(missing_figure(quality, ds.columns)) if quality else None,
        "balance_fig": _plain(balance_figure(quality, ds.target)) if quality.get("class_balance") else None,
        "kinds": [kind.value for kind in ColumnKind],
    }
    return render(request, "dashboard/datasets/detail.html", context)


def missing_figure(quality: dict, columns: list[str]) -> go.Figure:
    names = [c for c in columns if c in quality.get("missing", {})]  # the file's order (jsonb sorts keys)
    fig = go.Figure(go.Bar(x=names, y=[quality["missing"][n] for n in names], marker_color="#d9822b"))
    fig.update_layout(title="Missing share per column", yaxis_range=[0, 1], **LAYOUT)
    return fig


def balance_figure(quality: dict, target: str) -> go.Figure:
    balance = quality["class_balance"]
    fig = go.Figure(go.Bar(x=list(balance), y=[v["count"] for v in balance.values()], marker_color="#3b6fe0"))
    fig.update_layout(title=f"Class balance of {target}", **LAYOUT)
    return fig


def column_figures(quality: dict, schema: list[dict]) -> list[dict]:
    """One small chart per column: a histogram for numbers, top values otherwise."""
    charts = []
    for spec in schema[:MAX_CHARTS]:
        dist = quality.get("distributions", {}).get(spec["name"])
        if not dist or dist.get("type") == "empty":
            continue
        if dist["type"] == "histogram":
            edges = dist["edges"]
            centers = [(a + b) / 2 for a, b in itertools.pairwise(edges)]
            trace = go.Bar(x=centers, y=dist["counts"], marker_color="#5a7bd8")
        else:
            trace = go.Bar(x=[str(v) for v in dist["values"]], y=dist["counts"], marker_color="#5aa87b")
        fig = go.Figure(trace)
        fig.update_layout(title=f"{spec['name']} ({spec['kind']})", **LAYOUT)
        charts.append({"id": f"col-{len(charts)}", "figure": _plain(fig)})
    return charts


def _plain(fig: go.Figure) -> dict:
    return json.loads(fig.to_json())


urlpatterns = [
    path("datasets/", dataset_index, name="datasets-page"),
    path("datasets/generate/", dataset_generate_form, name="datasets-generate"),
    path("datasets/<int:pk>/", dataset_detail, name="dataset-page"),
]
