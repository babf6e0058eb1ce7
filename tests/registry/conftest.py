from __future__ import annotations

import pytest

from neural.registry.models import ModelVersion, RegisteredModel


def clone_version(version: ModelVersion, number: int) -> ModelVersion:
    """Another version row of the same model sharing the trained artifact: cheaper than training
    again, and every registry rule (numbers, activation, history) applies to it unchanged."""
    fields = {f.name: getattr(version, f.name) for f in ModelVersion._meta.fields if f.name not in ("id", "created_at")}
    return ModelVersion.objects.create(**{**fields, "version": number, "is_active": False})


@pytest.fixture
def model(trained) -> RegisteredModel:
    """coord-model with v1 (trained, active), v2 and v3 (inactive)."""
    registered = RegisteredModel.objects.get(name="coord-model")
    v1 = registered.versions.get(version=1)
    clone_version(v1, 2)
    clone_version(v1, 3)
    return registered
