"""GET compare (neural compare over HTTP) and the per-class figures in GET models/{name}/metrics."""

from __future__ import annotations

import pytest

from neural.registry.models import ModelVersion
from tests.factories import train_here


def test_it_compares_versions_with_their_per_class_figures(api, trained, dataset, user):
    train_here(dataset=dataset, user=user, model_name="coord-model", epochs=2)
    res = api.get("/api/v1/neural/compare", {"models": "coord-model:v1,coord-model:v2"})
    assert res.status_code == 200, res.json()
    rows = res.json()["models"]
    assert [r["model"] for r in rows] == ["coord-model:v1", "coord-model:v2"]
    v1 = ModelVersion.objects.get(version=1)
    assert rows[0]["test_accuracy"] == v1.test_metrics["accuracy"]
    assert rows[0]["per_class"] == v1.per_class()
    assert sum(r["support"] for r in rows[0]["per_class"]["classes"]) == v1.split["test_rows"]


@pytest.mark.parametrize("models", ["", "coord-model", ",".join(["coord-model"] * 11)])
def test_it_refuses_fewer_than_two_or_too_many_models(api, trained, models):
    res = api.get("/api/v1/neural/compare", {"models": models})
    assert res.status_code == 400 and "models" in res.json()["fields"]


def test_it_answers_404_naming_an_unknown_model(api, trained):
    res = api.get("/api/v1/neural/compare", {"models": "coord-model,ghost"})
    assert res.status_code == 404 and "ghost" in res.json()["error"]


def test_model_metrics_carry_the_per_class_figures(api, trained):
    res = api.get("/api/v1/neural/models/coord-model/metrics")
    assert res.status_code == 200
    (version,) = res.json()["versions"]
    per_class = version["per_class"]
    assert per_class["threshold"]["probability"] == 0.5
    assert {"precision", "recall", "false_positive_rate", "f1", "support"} <= set(per_class["classes"][0])
