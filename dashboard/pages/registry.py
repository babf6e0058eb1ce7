"""Registry pages: the models list, a model's page (versions, metrics, confusion matrix, history,
traffic split, admin buttons) and a comparison of 2-5 versions."""

from __future__ import annotations

from django.contrib import messages
from django.contrib.auth.decorators import login_required
from django.http import HttpResponseForbidden
from django.shortcuts import redirect, render
from django.urls import path
from django.views.decorators.http import require_POST

from dashboard import figures
from neural.datasets.models import PATTERN_TARGETS
from neural.errors import EngineError, NotFound
from neural.monitoring.selectors import version_live_accuracy
from neural.registry.admin import can_activate
from neural.registry.selectors import (
    activation_history,
    model_detail,
    model_list,
    model_version_resolve,
)
from neural.registry.services import model_rollout_abort, model_rollout_promote, model_version_activate

MAX_COMPARE = 5


def _accuracy(version) -> float | None:
    """Held-out test accuracy when there is a test split, else validation accuracy."""
    if version is None:
        return None
    return version.test_metrics.get("accuracy", version.metrics.get("val_accuracy"))


@login_required
def models_page(request):
    rows = []
    for m in model_list():
        versions = list(m.versions.all())
        active = next((v for v in versions if v.is_active), None)
        target = PATTERN_TARGETS.get(m.pattern)
        accuracy = _accuracy(active)
        rows.append(
            {
                "model": m,
                "active": active,
                "versions": len(versions),
                "accuracy": accuracy,
                "target": target,
                "meets": None if accuracy is None or target is None else accuracy >= target,
            }
        )
    return render(request, "dashboard/registry/list.html", {"rows": rows})


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
        live = version_live_accuracy(versions=[active, candidate], since=model.rollout_started_at)
        split = [
            {"version": active, "weight": 100 - model.candidate_weight, **live[active.pk]},
            {"version": candidate, "weight": model.candidate_weight, **live[candidate.pk]},
        ]
    shown = active or (versions[0] if versions else None)
    context = {
        "model": model,
        "versions": versions,
        "active": active,
        "shown": shown,
        "target": PATTERN_TARGETS.get(model.pattern),
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
    context = {"versions": versions, "table": table, "error": error}
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
            model_version_activate(version=version, user=request.user)
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


urlpatterns = [
    path("models/", models_page, name="models-page"),
    path("models/compare/", compare_page, name="models-compare"),
    path("models/<str:name>/", model_page, name="model-page"),
    path("models/<str:name>/<str:action>/", model_action, name="model-action"),
]
