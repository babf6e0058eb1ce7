"""Training pages: a session's live curves (the overview is in pages/monitoring.py). Pages
render stored rows; live updates come over websockets."""

from __future__ import annotations

import json

from django.contrib.auth.decorators import login_required
from django.shortcuts import render
from django.urls import path

from dashboard import figures
from neural.errors import NotFound
from neural.training.selectors import session_get


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


urlpatterns = [
    path("sessions/<int:session_id>/", session_detail, name="session-detail"),
]


def _plain(fig) -> dict:
    """Figure as plain JSON types, for json_script."""
    return json.loads(fig.to_json())
