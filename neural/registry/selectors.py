"""Reads for the registry."""

from __future__ import annotations

from neural.errors import NotFound
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
