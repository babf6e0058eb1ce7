"""The overview ("/": what needs attention, what is running, start a training, latest runs),
/monitoring/ (every active model's live accuracy against its pattern's target, drift per feature
over time) and /alerts/ (every alert with its history, paged and filtered). Pages render what is
stored; /ws/dashboard/ events make them re-read the summary."""

from __future__ import annotations

from django.contrib.auth.decorators import login_required
from django.http import JsonResponse
from django.shortcuts import render
from django.urls import path

from dashboard.accuracy import LIVE_DAYS
from dashboard.tables import PER_PAGE_CHOICES, Column, filtered_page
from dashboard.training_form import training_form_context
from neural.monitoring.models import Alert, AlertRule
from neural.monitoring.overview import overview_summary
from neural.monitoring.selectors import alert_history
from neural.registry.selectors import model_list
from neural.training.selectors import session_list

LATEST_RUNS = 10


@login_required
def overview(request):
    summary = overview_summary()
    live = {m["name"]: m for m in summary["models"]}
    return render(
        request,
        "dashboard/overview.html",
        {
            "sessions": session_list()[:LATEST_RUNS],
            "models": [{"model": m, "live": live.get(m.name)} for m in model_list()],
            "summary": summary,
            "live_days": LIVE_DAYS,
            **training_form_context(),
        },
    )


@login_required
def monitoring(request):
    return render(request, "dashboard/monitoring.html", {"summary": overview_summary(), "live_days": LIVE_DAYS})


@login_required
def summary_json(request):
    """What the pages re-read when a monitoring event says something changed."""
    return JsonResponse(overview_summary())


ALERT_COLUMNS = [
    Column("id", "#"),
    Column("model", "Model"),
    Column("rule", "Rule"),
    Column("state", "State"),
    Column("value", "Value"),
    Column("message", "Message", sortable=False),
    Column("fired_at", "Fired"),
    Column("acknowledged_at", "Acknowledged"),
    Column("resolved_at", "Resolved"),
]
ALERT_FILTERS = ("model", "rule", "state", "q")


@login_required
def alerts_page(request):
    params = request.GET
    table, errors = filtered_page(
        params, select=alert_history, filters=ALERT_FILTERS, default_sort="-fired_at", columns=ALERT_COLUMNS
    )
    context = {
        "table": table,
        "errors": errors,
        "params": params,
        "per_page_choices": PER_PAGE_CHOICES,
        "states": [*Alert.Status.values, "open"],
        "rules": AlertRule.Kind.choices,
        "model_names": [m.name for m in model_list()],
    }
    return render(request, "dashboard/alerts.html", context, status=400 if errors else 200)


urlpatterns = [
    path("", overview, name="overview"),
    path("monitoring/", monitoring, name="monitoring"),
    path("monitoring/summary.json", summary_json, name="monitoring-summary"),
    path("alerts/", alerts_page, name="alerts-page"),
]
