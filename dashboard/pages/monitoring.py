"""The overview page ("/") and /monitoring/: every active model's accuracy trend against its
pattern's target, drift per feature over time, open alerts with an acknowledge button, running
trainings. The page renders what is stored; /ws/dashboard/ events make it re-read the summary."""

from __future__ import annotations

from django.contrib.auth.decorators import login_required
from django.http import JsonResponse
from django.shortcuts import render
from django.urls import path

from neural.datasets.selectors import dataset_list
from neural.monitoring.overview import overview_summary
from neural.registry.selectors import model_list
from neural.training.selectors import session_list


@login_required
def overview(request):
    return render(
        request,
        "dashboard/overview.html",
        {
            "sessions": session_list()[:25],
            "models": model_list(),
            "datasets": dataset_list()[:50],
            "summary": overview_summary(),
        },
    )


@login_required
def summary_json(request):
    """What the page re-reads when a monitoring event says something changed."""
    return JsonResponse(overview_summary())


urlpatterns = [
    path("", overview, name="overview"),
    path("monitoring/", overview, name="monitoring"),
    path("monitoring/summary.json", summary_json, name="monitoring-summary"),
]
