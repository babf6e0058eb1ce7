"""Reads for the registry."""

from __future__ import annotations

from django.db.models import F

from neural.datasets.models import Pattern
from neural.errors import DataError, NotFound
from neural.queries import METRIC_KEY, JsonNumber
from neural.registry.models import ModelVersion, RegisteredModel


def model_get(*, name: str, field: str = "model") -> RegisteredModel:
    model = RegisteredModel.objects.filter(name=name).first()
    if model is None:
        raise NotFound(f"model {name!r} does not exist", field=field)
    return model


def model_version_resolve(*, ref: str, field: str = "model") -> ModelVersion:
    """``name`` (its active version) or ``name:vN``: one query (the version with its model) when
    it exists; a second one names what is missing."""
    name, _, number = ref.partition(":v")
    if number and not number.isdigit():
        model_get(name=name, field=field)
        raise NotFound(f"model {name!r} has no version v{number}", field=field)
    wanted = {"version": int(number)} if number else {"is_active": True}
    version = ModelVersion.objects.select_related("model").filter(model__name=name, **wanted).first()
    if version is None:
        model_get(name=name, field=field)  # 404 for an unknown model
        raise NotFound(f"model {name!r} has no " + (f"version v{number}" if number else "active version"), field=field)
    return version


def model_list():
    return RegisteredModel.objects.prefetch_related("versions").order_by("name")


def model_detail(*, name: str) -> RegisteredModel:
    """A model with its versions (and their parents) and its history, for pages and the API."""
    model = (
        RegisteredModel.objects.filter(name=name)
        .prefetch_related("versions__parent", "versions__dataset", "activation_events__user")
        .first()
    )
    if model is None:
        raise NotFound(f"model {name!r} does not exist", field="model")
    return model


def activation_history(*, model: RegisteredModel, limit: int = 50):
    return model.activation_events.select_related("user")[:limit]


VERSION_SORTS = {
    "model": "model__name",
    "version": "version",
    "created_at": "created_at",
    "parameters": "n_parameters",
    "size": "size_bytes",
    "active": "is_active",
}


def version_table(*, model: str = "", pattern: str = "", active: str = "", q: str = "", sort: str = "-created_at"):
    """Every model version for the versions table, filtered and sorted in one query. ``sort`` is
    a column or a recorded figure: ``val_accuracy`` (validation) or ``test_accuracy`` (held-out
    test). Bad values are a ``DataError`` naming the parameter."""
    if pattern and pattern not in Pattern.values:
        raise DataError(f"pattern must be one of {', '.join(Pattern.values)}", field="pattern")
    if active not in ("", "yes", "no"):
        raise DataError("active must be yes or no", field="active")
    qs = ModelVersion.objects.select_related("model", "dataset").defer("config", "split", "confusion_matrix")
    if model:
        qs = qs.filter(model__name=model)
    if pattern:
        qs = qs.filter(model__pattern=pattern)
    if active:
        qs = qs.filter(is_active=active == "yes")
    if q:
        qs = qs.filter(model__name__icontains=q)
    bare, descending = sort.lstrip("-"), sort.startswith("-")
    if bare in VERSION_SORTS:
        key = F(VERSION_SORTS[bare])
    elif bare.startswith("test_") and METRIC_KEY.match(bare):
        qs, key = qs.annotate(sort_value=JsonNumber("test_metrics", bare[5:])), F("sort_value")
    elif METRIC_KEY.match(bare):
        qs, key = qs.annotate(sort_value=JsonNumber("metrics", bare)), F("sort_value")
    else:
        raise DataError("sort must be a column or a metric name, optionally with a leading -", field="sort")
    order = key.desc(nulls_last=True) if descending else key.asc(nulls_last=True)
    return qs.order_by(order, "-id" if descending else "id")


def activation_drop(version, active) -> dict | None:
    """When ``version`` scores worse than the ``active`` one: what, both scores and by how much.

    Compares held-out test accuracy when both have one, else validation accuracy (R² for
    regression); None when it is not worse or there is nothing to compare.
    """
    if version is None or active is None or version.pk == active.pk:
        return None
    for label, read in (
        ("test accuracy", lambda v: v.test_metrics.get("accuracy")),
        ("validation accuracy", lambda v: v.metrics.get("val_accuracy")),
        ("test R²", lambda v: v.test_metrics.get("r2")),
        ("validation R²", lambda v: v.metrics.get("val_r2")),
    ):
        mine, theirs = read(version), read(active)
        if isinstance(mine, int | float) and isinstance(theirs, int | float):
            if mine >= theirs:
                return None
            return {
                "metric": label,
                "version": version,
                "active": active,
                "score": mine,
                "active_score": theirs,
                "drop": theirs - mine,
            }
    return None
