"""Cross-validation pages: the list, and one cross-validation's folds side by side (a table of
each fold's figures, a chart, mean ± sd and the 95% interval of each figure)."""

from __future__ import annotations

import json

from django.contrib.auth.decorators import login_required
from django.shortcuts import render
from django.urls import path

from dashboard.crossval_figures import folds_figure
from dashboard.tables import paginate
from neural.errors import NotFound
from neural.training.crossval_selectors import (
    cross_validation_get,
    cross_validation_list,
    cross_validation_report,
    primary_metric,
)

REFRESH_S = 5


@login_required
def cross_validation_list_page(request):
    """Every cross-validation, newest first, a page at a time (``page``, ``per_page``)."""
    table = paginate(cross_validation_list().order_by("-pk"), params=request.GET, sort="-pk", columns=[], keep=())
    rows = []
    for cv in table.rows:
        metric = primary_metric(cv.task)
        rows.append({"cv": cv, "metric": metric, "summary": cv.summary.get(metric)})
    return render(request, "dashboard/crossval/list.html", {"rows": rows, "table": table})


@login_required
def cross_validation_detail_page(request, cv_id: int):
    try:
        cv = cross_validation_get(cv_id=cv_id)
    except NotFound:
        return render(request, "dashboard/not_found.html", {"what": f"cross-validation {cv_id}"}, status=404)
    report = cross_validation_report(cv=cv)
    names = sorted({k for f in report["fold_results"] for k in f["metrics"]})
    fig = folds_figure(report)
    context = {
        "cv": cv,
        "report": report,
        "names": names,
        "folds": [{**f, "values": [f["metrics"].get(n) for n in names]} for f in report["fold_results"]],
        "figures": [{"name": n, **report["summary"][n]} for n in names if n in report["summary"]],
        "folds_fig": json.loads(fig.to_json()) if fig is not None else None,
        "refresh_s": None if cv.is_finished else REFRESH_S,
    }
    return render(request, "dashboard/crossval/detail.html", context)


urlpatterns = [
    path("cross-validations/", cross_validation_list_page, name="cross-validation-list"),
    path("cross-validations/<int:cv_id>/", cross_validation_detail_page, name="cross-validation-detail"),
]
