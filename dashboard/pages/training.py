"""Training pages: a session's live curves, and the searches (hyper-optimize,
architecture-search) with their trials (the overview is in pages/monitoring.py). Pages render
stored rows; live updates come over websockets."""

from __future__ import annotations

import json

from django.contrib.auth.decorators import login_required
from django.shortcuts import render
from django.urls import path

from dashboard import figures
from neural.errors import NotFound
from neural.training.reports import option_names, option_text
from neural.training.selectors import session_get, tuning_job_get, tuning_job_list
from neural.training.tuning import search_baseline, tuning_report


@login_required
def session_detail(request, session_id: int):
    try:
        session = session_get(session_id=session_id)
    except NotFound:
        return render(request, "dashboard/not_found.html", {"what": f"training session {session_id}"}, status=404)
    rows = list(session.epoch_metrics.order_by("epoch"))
    version = session.model_version
    context = {
        "session": session,
        "task": session.dataset.task,
        "loss_fig": _plain(figures.loss_figure(rows)),
        "quality_fig": _plain(figures.quality_figure(rows, session.dataset.task)),
        "confusion_fig": _plain(figures.confusion_figure(version.confusion_matrix, version.classes))
        if version and version.confusion_matrix
        else None,
        "version": version,
        "log_lines": session.log_lines.all(),
        "last_epoch_metrics": rows[-1].metrics if rows else {},
    }
    return render(request, "dashboard/session.html", context)


@login_required
def search_list(request):
    rows = [{"job": job, "baseline": search_baseline(job)} for job in tuning_job_list()[:200]]
    return render(request, "dashboard/searches/list.html", {"rows": rows})


@login_required
def search_detail(request, job_id: int):
    try:
        job = tuning_job_get(job_id=job_id)
    except NotFound:
        return render(request, "dashboard/not_found.html", {"what": f"search {job_id}"}, status=404)
    report = tuning_report(job=job)
    size_fig = figures.search_size_figure(report)
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
