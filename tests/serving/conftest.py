from __future__ import annotations

import pytest

from neural.registry.models import ModelVersion
from tests.registry.conftest import model  # noqa: F401  (coord-model with three versions, for rollouts)


@pytest.fixture
def version(trained) -> ModelVersion:
    return ModelVersion.objects.select_related("model").get(pk=trained.model_version_id)
