"""Roles (DESIGN.md §6): an account in the viewers group reads everything and changes nothing."""

from __future__ import annotations

import pytest
from django.contrib.auth.models import Group
from rest_framework.test import APIClient

from neural.datasets.models import Dataset
from neural.monitoring.models import AlertRule
from neural.training.models import TrainingSession
from tests.factories import COORDINATION_INPUT, UserFactory, api_token


@pytest.fixture
def viewer(db):
    user = UserFactory(username="watcher")
    user.groups.add(Group.objects.get(name="viewers"))  # the group comes with the migrations
    return user


@pytest.fixture
def viewer_api(viewer) -> APIClient:
    client = APIClient()
    client.credentials(HTTP_AUTHORIZATION=f"Token {api_token(viewer)}")
    return client


def test_a_viewer_reads(viewer_api, trained):
    for url in ("/api/v1/neural/models", "/api/v1/neural/models/coord-model", "/api/v1/neural/train",
                "/api/v1/neural/datasets", "/api/v1/neural/alerts", "/api/v1/neural/searches"):  # fmt: skip
        assert viewer_api.get(url).status_code == 200, url


def test_a_viewer_changes_nothing(viewer_api, trained):
    dataset = trained.dataset
    attempts = [
        ("/api/v1/neural/train", {"pattern_type": "coordination", "training_data": dataset.pk, "epochs": 1}),
        ("/api/v1/neural/predict", {"model": "coord-model", "input": COORDINATION_INPUT}),
        ("/api/v1/neural/alert-rules", {"model": "coord-model", "kind": "accuracy_below", "threshold": 0.7}),
        ("/api/v1/neural/searches", {"model": "coord-model", "trials": 2}),
    ]
    sessions = TrainingSession.objects.count()
    for url, body in attempts:
        res = viewer_api.post(url, body, format="json")
        assert res.status_code == 403 and "viewer" in res.json()["error"], (url, res.json())
    res = viewer_api.patch(
        f"/api/v1/neural/datasets/{dataset.pk}", {"schema": {"agent_load": {"excluded": True}}}, format="json"
    )
    assert res.status_code == 403
    assert TrainingSession.objects.count() == sessions and not AlertRule.objects.exists()


def test_a_viewer_becomes_an_operator_at_once_when_taken_out_of_the_group(viewer, viewer_api, trained):
    body = {"model": "coord-model", "input": COORDINATION_INPUT}
    assert viewer_api.post("/api/v1/neural/predict", body, format="json").status_code == 403
    viewer.groups.clear()  # the cached token answer is forgotten
    assert viewer_api.post("/api/v1/neural/predict", body, format="json").status_code == 200


def test_the_generator_form_refuses_a_viewer(client, viewer):
    client.force_login(viewer)
    res = client.post("/datasets/generate/", {"pattern": "coordination", "rows": "50", "name": "nope"})
    assert res.status_code == 403 and "viewer" in res.content.decode()
    assert not Dataset.objects.filter(name="nope").exists()
