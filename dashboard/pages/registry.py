"""Registry pages: the models list, a model's page (versions, metrics, confusion matrix, history,
traffic split, admin buttons) and a comparison of 2-5 versions."""

from __future__ import annotations

from urllib.parse import quote, unquote

from django.contrib import messages
from django.contrib.auth.decorators import login_required
from django.http import HttpResponseForbidden
from django.shortcuts import redirect, render
from django.urls import path, register_converter
from django.views.decorators.http import require_POST

from dashboard import figures
from dashboard.accuracy import LIVE_DAYS, live_accuracy, version_scores
from dashboard.tables import PER_PAGE_CHOICES, Column, filtered_page
from neural.datasets.models import PATTERN_TARGETS, Pattern
from neural.errors import DataError, EngineError, NotFound
from neural.monitoring.selectors import open_alerts_by_model, version_live_accuracy
from neural.registry.admin import can_activate
from neural.registry.selectors import (
    activation_drop,
    activation_history,
    model_detail,
    model_list,
    model_version_resolve,
    version_table,
)
from neural.registry.services import (
    model_rollout_abort,
    model_rollout_promote,
    model_rollout_start,
    model_version_activate,
)

MAX_COMPARE = 5


VERSION_COLUMNS = [
    Column("model", "Model"),
    Column("version", "Version"),
    Column("active", "Active"),
    Column("val_accuracy", "Validation accuracy"),
    Column("test_accuracy", "Test accuracy"),
    Column("val_r2", "Validation R²", hidden=True),
    Column("dataset", "Data set", sortable=False),
    Column("parameters", "Parameters", hidden=True),
    Column("size", "Size", hidden=True),
    Column("created_at", "Created"),
]
VERSION_FILTERS = ("model", "pattern", "active", "q")


@login_required
def models_page(request):
    models = list(model_list())
    actives = {m.pk: next((v for v in m.versions.all() if v.is_active), None) for m in models}
    live = live_accuracy(list(actives.values()))
    alerts = open_alerts_by_model(model_ids=[m.pk for m in models])
    rows = []
    for m in models:
        active = actives[m.pk]
        target = PATTERN_TARGETS.get(m.pattern)
        accuracy = live.get(active.pk, {}).get("accuracy") if active else None
        rows.append(
            {
                "model": m,
                "active": active,
                "versions": len(m.versions.all()),
                "live": live.get(active.pk) if active else None,
                "scores": version_scores(active),
                "target": target,
                "meets": None if accuracy is None or target is None else accuracy >= target,
                "alerts": alerts.get(m.pk, []),
            }
        )
    params = request.GET
    table, errors = filtered_page(
        params, select=version_table, filters=VERSION_FILTERS, default_sort="-created_at", columns=VERSION_COLUMNS
    )
    context = {
        "rows": rows,
        "table": table,
        "errors": errors,
        "params": params,
        "patterns": Pattern.values,
        "per_page_choices": PER_PAGE_CHOICES,
        "live_days": LIVE_DAYS,
    }
    return render(request, "dashboard/registry/list.html", context, status=400 if errors else 200)


@login_required
def model_page(request, name: str):
    try:
        model = model_detail(name=name)
    except NotFound:
        return render(request, "dashboard/not_found.html", {"what": f"model {name}"}, status=404)
    versions = list(model.versions.all())
    active = next((v for v in versions if v.is_active), None)
    candidate = next((v for v in versions if v.pk == model.candidate_id), None)
    split = None
    if candidate and active:
        since_split = version_live_accuracy(versions=[active, candidate], since=model.rollout_started_at)
        split = [
            {"version": active, "weight": 100 - model.candidate_weight, **since_split[active.pk]},
            {"version": candidate, "weight": model.candidate_weight, **since_split[candidate.pk]},
        ]
    live = live_accuracy(versions)
    shown = active or (versions[0] if versions else None)
    context = {
        "model": model,
        "versions": [
            {"v": v, "scores": version_scores(v), "live": live.get(v.pk), "worse": activation_drop(v, active)}
            for v in versions
        ],
        "active": active,
        "active_scores": version_scores(active),
        "active_live": live.get(active.pk) if active else None,
        "live_days": LIVE_DAYS,
        "shown": shown,
        "target": PATTERN_TARGETS.get(model.pattern),
        "alerts": open_alerts_by_model(model_ids=[model.pk]).get(model.pk, []),
        "confusion_fig": figures.confusion_figure(shown.confusion_matrix, shown.classes).to_json()
        if shown and shown.confusion_matrix
        else None,
        "history": activation_history(model=model),
        "split": split,
        "can_activate": can_activate(request.user),
    }
    return render(request, "dashboard/registry/detail.html", context)


@login_required
def compare_page(request):
    refs = [r.strip() for r in request.GET.get("versions", "").split(",") if r.strip()]
    error, versions = None, []
    if not 2 <= len(refs) <= MAX_COMPARE:
        error = f"name 2 to {MAX_COMPARE} versions, e.g. ?versions=coordination:v1,coordination:v2"
    else:
        try:
            versions = [model_version_resolve(ref=r, field="versions") for r in refs]
        except EngineError as exc:
            error = exc.message
    keys = sorted({k for v in versions for k in [*v.metrics, *(f"test_{t}" for t in v.test_metrics)]})
    table = [{"key": k, "values": [_metric(v, k) for v in versions]} for k in keys]
    live = live_accuracy(versions)
    context = {
        "versions": versions,
        "table": table,
        "error": error,
        "live": [live.get(v.pk, {}).get("accuracy") for v in versions],
        "targets": [PATTERN_TARGETS.get(v.model.pattern) for v in versions],
        "live_days": LIVE_DAYS,
    }
    return render(request, "dashboard/registry/compare.html", context, status=400 if error else 200)


def _metric(version, key: str) -> float | None:
    return version.test_metrics.get(key[5:]) if key.startswith("test_") else version.metrics.get(key)


@login_required
@require_POST
def model_action(request, name: str, action: str):
    """The admin buttons on a model page: activate (or roll back to) a version, promote, abort."""
    if not can_activate(request.user):
        return HttpResponseForbidden("only admins may change which version answers")
    try:
        model = model_detail(name=name)
        if action == "activate":
            number = request.POST.get("version", "").lstrip("v")
            version = model.versions.filter(version=int(number)).first() if number.isdigit() else None
            if version is None:
                raise NotFound(f"model {name!r} has no version v{number}", field="version")
            drop = activation_drop(version, model.versions.filter(is_active=True).first())
            if drop and request.POST.get("confirm") != "yes":
                return render(request, "dashboard/registry/confirm_activate.html", {"model": model, "drop": drop})
            model_version_activate(version=version, user=request.user)
        elif action == "rollout":
            _rollout(request, model)
        elif action == "promote":
            model_rollout_promote(model=model, user=request.user)
        elif action == "abort":
            model_rollout_abort(model=model, user=request.user)
        else:
            raise NotFound(f"unknown action {action!r}")
    except EngineError as exc:
        messages.error(request, exc.message)
    else:
        messages.success(request, f"{name}: {action} done")
    return redirect("model-page", name=name)


class ModelNameConverter:
    """A model name in a URL. Valid names pass unchanged; a name stored before names were checked
    (one with ``/``) is escaped, so its link renders and its page opens instead of a 500."""

    regex = "[^/]+"

    def to_python(self, value: str) -> str:
        return unquote(value)

    def to_url(self, value: str) -> str:
        return quote(str(value), safe="")


register_converter(ModelNameConverter, "model_name")


def _rollout(request, model) -> None:
    """The rollout form: the version and its share of traffic, checked like the API checks them."""
    number = request.POST.get("version", "").lstrip("v")
    version = model.versions.filter(version=int(number)).first() if number.isdigit() else None
    if version is None:
        raise NotFound(f"model {model.name!r} has no version v{number}", field="version")
    weight = request.POST.get("weight", "")
    if not weight.isdigit() or not 1 <= int(weight) <= 99:
        raise DataError("weight must be a whole number of percent from 1 to 99", field="weight")
    model_rollout_start(model=model, version=version, weight=int(weight), user=request.user)


urlpatterns = [
    path("models/", models_page, name="models-page"),
    path("models/compare/", compare_page, name="models-compare"),
    path("models/<model_name:name>/", model_page, name="model-page"),
    path("models/<model_name:name>/<str:action>/", model_action, name="model-action"),
]
