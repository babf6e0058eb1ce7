"""Training pages: a session's live curves, and the searches (hyper-optimize,
architecture-search) with their trials (the overview is in pages/monitoring.py). Pages render
stored rows; live updates come over websockets."""

from __future__ import annotations

import json

import orjson
from django.contrib.auth.decorators import login_required
from django.shortcuts import render
from django.urls import path
from django.utils.html import format_html
from django.utils.safestring import mark_safe

from dashboard import figures, search_figures
from dashboard.accuracy import LIVE_DAYS, live_accuracy
from dashboard.tables import paginate
from neural.api.permissions import is_viewer
from neural.datasets.models import PATTERN_TARGETS
from neural.errors import NotFound
from neural.monitoring.selectors import open_alerts_by_model
from neural.training import series
from neural.training.reports import option_names, option_text
from neural.training.selectors import (
    best_epoch,
    epoch_page,
    latest_epoch,
    session_get,
    tuning_job_get,
    tuning_job_list,
)
from neural.training.tuning import search_baseline, tuning_importance, tuning_report

LOSS_KEYS = ["train_loss", "val_loss"]
QUALITY_KEYS = {"regression": ["val_r2"], "default": ["val_accuracy", "val_macro_f1"]}
TABLE_ROWS = 50
LOG_LINES = 200


@login_required
def session_detail(request, session_id: int):
    """One run: curves downsampled to about 2,000 points a figure whatever its length (the
    page re-reads a zoomed range whole from the API), its batch loss, usage, options, tags and
    notes, one page of the epoch table and the last log lines."""
    try:
        session = session_get(session_id=session_id)
    except NotFound:
        return render(request, "dashboard/not_found.html", {"what": f"training session {session_id}"}, status=404)
    version = session.model_version
    task = session.dataset.task
    quality = QUALITY_KEYS.get(task, QUALITY_KEYS["default"])
    bounds = series.epoch_bounds(session=session)
    keys = {*LOSS_KEYS, *quality, "rss_bytes", "cpu_percent", "gpu_bytes"}
    curves = series.epoch_range_series(session=session, lo=bounds[0], hi=bounds[1], keys=keys) if bounds else None
    steps = series.step_bounds(session=session)
    best = best_epoch(session=session)
    latest = latest_epoch(session=session)
    page_rows, pages = epoch_page(session=session, page=_page(request), per_page=TABLE_ROWS)
    table_keys = list(latest.metrics) if latest else []
    data = {
        "id": session.pk,
        "finished": session.is_finished,
        "status": session.status,
        "epoch": session.epoch,
        "epochs": session.epochs,
        "started_at": session.started_at.isoformat() if session.started_at else None,
        "finished_at": session.finished_at.isoformat() if session.finished_at else None,
        "loss_keys": LOSS_KEYS,
        "quality_keys": quality,
        "first": bounds[0] if bounds else None,
        "last": bounds[1] if bounds else 0,
        "resolution": curves["resolution"] if curves else 1,
        "series": curves["series"] if curves else {},
        "steps": series.step_range_series(session=session, lo=steps[0], hi=steps[1]) if steps else None,
        "best_epoch": best.epoch if best else None,
        "early_stop_epoch": _early_stop(session, latest),
        "last_elapsed_s": latest.elapsed_s if latest else None,
        "can_edit": not is_viewer(request.user),
    }
    context = {
        "session": session,
        "task": task,
        "data": data,
        "data_script": json_script(data, "session-data"),
        "confusion_fig": _plain(figures.confusion_figure(version.confusion_matrix, version.classes))
        if version and version.confusion_matrix
        else None,
        "version": version,
        **_version_standing(version),
        "log_lines": list(reversed(session.log_lines.order_by("-id")[:LOG_LINES])),
        "last_epoch_metrics": latest.metrics if latest else {},
        "best": best,
        "latest": latest,
        "table_rows": [
            {"epoch": r.epoch, "is_best": r.is_best, "cells": [r.metrics.get(k) for k in table_keys]} for r in page_rows
        ],
        "table_keys": table_keys,
        "page": _page(request) if pages >= _page(request) else pages,
        "pages": pages,
        "options": sorted((k, option_text(v)) for k, v in session.config.items()),
    }
    return render(request, "dashboard/session.html", context)


def _version_standing(version) -> dict:
    """The registered version's live accuracy (feedback) beside its pattern's target, and its
    model's open alerts: what the models pages show for a version, shown wherever one is."""
    if version is None:
        return {}
    model = version.model
    return {
        "version_live": live_accuracy([version]).get(version.pk),
        "version_target": PATTERN_TARGETS.get(model.pattern),
        "version_alerts": open_alerts_by_model(model_ids=[model.pk]).get(model.pk, []),
        "live_days": LIVE_DAYS,
    }


_JSON_ESCAPES = {ord(">"): "\\u003E", ord("<"): "\\u003C", ord("&"): "\\u0026"}


def json_script(value, element_id: str) -> str:
    """Django's json_script with orjson: the page's 2,000-point series took Django's json 0.1 s."""
    text = orjson.dumps(value).decode().translate(_JSON_ESCAPES)
    return format_html('<script id="{}" type="application/json">{}</script>', element_id, mark_safe(text))


def _page(request) -> int:
    raw = request.GET.get("page", "1")
    return int(raw) if raw.isdigit() and 0 < int(raw) < 10**9 else 1


def _early_stop(session, latest) -> int | None:
    """The epoch early stopping ended a finished run at, if it ended before its last epoch."""
    if session.status != "succeeded" or latest is None or latest.epoch >= session.epochs:
        return None
    return latest.epoch if session.config.get("early_stopping", True) else None


@login_required
def search_list(request):
    """Every search, newest first, a page at a time (``page``, ``per_page``)."""
    table = paginate(tuning_job_list().order_by("-pk"), params=request.GET, sort="-pk", columns=[], keep=())
    rows = [{"job": job, "baseline": search_baseline(job)} for job in table.rows]
    return render(request, "dashboard/searches/list.html", {"rows": rows, "table": table})


@login_required
def search_detail(request, job_id: int):
    try:
        job = tuning_job_get(job_id=job_id)
    except NotFound:
        return render(request, "dashboard/not_found.html", {"what": f"search {job_id}"}, status=404)
    report = tuning_report(job=job)
    size_fig = figures.search_size_figure(report)
    parallel = search_figures.parallel_figure(report)
    importance, importance_note = tuning_importance(job=job)
    names = option_names(report)
    context = {
        "job": job,
        "report": report,
        "option_names": names,
        "counts": ", ".join(f"{n} {state}" for state, n in report["counts"].items() if n) or "none ran yet",
        "trials": [
            {
                **t,
                "options": [option_text(t["params"].get(n)) for n in names],
                "on_front": t["number"] in report["pareto"],
            }
            for t in report["trials"]
        ],
        "best_options": {k: option_text(v) for k, v in (report["best"] or {}).get("params", {}).items()},
        "history_fig": _plain(figures.search_history_figure(report)),
        "size_fig": _plain(size_fig) if size_fig is not None else None,
        "parallel_fig": _plain(parallel) if parallel is not None else None,
        "importance_fig": _plain(search_figures.importance_figure(importance, report["objective"]))
        if importance
        else None,
        "importance_note": importance_note,
        "running": not job.is_finished,
    }
    return render(request, "dashboard/searches/detail.html", context)


urlpatterns = [
    path("sessions/<int:session_id>/", session_detail, name="session-detail"),
    path("searches/", search_list, name="search-list"),
    path("searches/<int:job_id>/", search_detail, name="search-detail"),
]


def _plain(fig) -> dict:
    """Figure as plain JSON types, for json_script."""
    return json.loads(fig.to_json())
