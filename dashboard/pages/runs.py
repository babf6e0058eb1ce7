"""The runs table (`/sessions/`): every training session, paged, sorted, filtered and searched on
the server (two queries a page at any size), a column chooser kept in the browser, and status
changes applied live from /ws/dashboard/ (static/js/runs.js)."""

from __future__ import annotations

from dataclasses import fields

from django.contrib.auth.decorators import login_required
from django.shortcuts import render
from django.urls import path

from dashboard.tables import PER_PAGE_CHOICES, Column, paginate
from neural.engine.config import TrainConfig
from neural.errors import DataError
from neural.training.run_table import RunFilters, run_filters_parse, run_sort_check, run_table, run_table_choices

DEFAULT_SORT = "-created_at"
FILTER_PARAMS = (
    "status",
    "model",
    "pattern",
    "dataset",
    "q",
    "from",
    "to",
    "metric",
    "min",
    "max",
    "option",
    "value",
    "tag",
    "run",  # the sessions of one `neural train --config F` run
)
# Metric columns read from the session's recorded metrics (validation and held-out test figures).
METRIC_COLUMNS = [
    Column("val_accuracy", "Validation accuracy"),
    Column("test_accuracy", "Test accuracy"),
    Column("val_loss", "Validation loss", hidden=True),
    Column("val_macro_f1", "Validation macro-F1", hidden=True),
    Column("val_r2", "Validation R²", hidden=True),
]
COLUMNS = [
    Column("id", "#"),
    Column("name", "Name"),
    Column("model", "Model"),
    Column("run", "Run"),
    Column("pattern", "Pattern", hidden=True),
    Column("dataset", "Data set"),
    Column("status", "Status"),
    Column("epoch", "Epoch"),
    *METRIC_COLUMNS,
    Column("created_at", "Created", hidden=True),
    Column("started_at", "Started"),
    Column("finished_at", "Finished", hidden=True),
    Column("duration", "Duration", sortable=False),
    Column("tags", "Tags", sortable=False),
]


@login_required
def runs_page(request):
    params = request.GET
    errors: dict[str, str] = {}
    try:
        filters = run_filters_parse(params)
    except DataError as exc:
        errors[exc.field or "filter"] = exc.message
        filters = RunFilters()
    sort = params.get("sort") or DEFAULT_SORT
    try:
        run_sort_check(sort)
    except DataError as exc:
        errors["sort"] = exc.message
        sort = DEFAULT_SORT
    table = paginate(
        run_table(filters=filters, sort=sort), params=params, sort=sort, columns=COLUMNS, keep=FILTER_PARAMS
    )
    context = {
        "table": table,
        "rows": [_row(s) for s in table.rows],
        "errors": errors,
        "params": params,
        "per_page_choices": PER_PAGE_CHOICES,
        "metric_columns": METRIC_COLUMNS,
        "option_names": [f.name for f in fields(TrainConfig)],
        **run_table_choices(),
    }
    return render(request, "dashboard/runs.html", context, status=400 if errors else 200)


def _row(session) -> dict:
    duration = None
    if session.started_at:
        end = session.finished_at
        duration = (end - session.started_at).total_seconds() if end else None
    return {
        "session": session,
        "metrics": [(c, session.metrics.get(c.key)) for c in METRIC_COLUMNS],
        "duration": duration,
    }


urlpatterns = [
    path("sessions/", runs_page, name="runs-page"),
]
