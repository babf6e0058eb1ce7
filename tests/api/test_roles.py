"""Roles (DESIGN.md §6): an account in the viewers group reads everything and changes nothing."""

from __future__ import annotations

import re

import pytest
from django.contrib.auth.models import Group
from drf_spectacular.generators import SchemaGenerator
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


# --- The role matrix: every operation of the OpenAPI schema x every role ------------------------
# Who may call what (DESIGN.md §6). Every operation the schema lists must be declared here: a new
# endpoint without a line fails test_every_operation_has_a_declared_rule.
PUBLIC = "public"  # anyone, signed in or not
READ = "read"  # any signed-in account (viewers included)
OPERATE = "operate"  # operators and admins: train, predict, acknowledge, upload, ...
ADMIN = "admin"  # admins only: activate, roll out, delete models
RULES = {
    ("GET", "/api/v1/neural/accuracy"): READ,
    ("GET", "/api/v1/neural/alert-rules"): READ,
    ("POST", "/api/v1/neural/alert-rules"): OPERATE,
    ("GET", "/api/v1/neural/alerts"): READ,
    ("POST", "/api/v1/neural/alerts/{alert_id}/acknowledge"): OPERATE,
    ("POST", "/api/v1/neural/alerts/{alert_id}/resolve"): OPERATE,
    ("GET", "/api/v1/neural/datasets"): READ,
    ("POST", "/api/v1/neural/datasets"): OPERATE,
    ("GET", "/api/v1/neural/datasets/{id}"): READ,
    ("PATCH", "/api/v1/neural/datasets/{id}"): OPERATE,
    ("GET", "/api/v1/neural/datasets/{id}/quality"): READ,
    ("GET", "/api/v1/neural/datasets/{id}/sample"): READ,
    ("GET", "/api/v1/neural/drift"): READ,
    ("GET", "/api/v1/neural/drift/history"): READ,
    ("POST", "/api/v1/neural/feedback"): OPERATE,
    ("POST", "/api/v1/neural/feedback/bulk"): OPERATE,
    ("GET", "/api/v1/neural/models"): READ,
    ("POST", "/api/v1/neural/ensembles"): OPERATE,
    ("GET", "/api/v1/neural/models/{model_id}"): READ,
    ("DELETE", "/api/v1/neural/models/{model_id}"): ADMIN,
    ("POST", "/api/v1/neural/models/{model_id}/activate"): ADMIN,
    ("GET", "/api/v1/neural/models/{model_id}/metrics"): READ,
    ("GET", "/api/v1/neural/compare"): READ,
    ("POST", "/api/v1/neural/models/{model_id}/rollout"): ADMIN,
    ("DELETE", "/api/v1/neural/models/{model_id}/rollout"): ADMIN,
    ("POST", "/api/v1/neural/models/{model_id}/rollout/promote"): ADMIN,
    ("POST", "/api/v1/neural/predict"): OPERATE,
    ("POST", "/api/v1/neural/predict/batch"): OPERATE,
    ("POST", "/api/v1/neural/recommend"): OPERATE,
    ("GET", "/api/v1/neural/retrain-runs"): READ,
    ("GET", "/api/v1/neural/runs"): READ,
    ("POST", "/api/v1/neural/runs"): OPERATE,
    ("GET", "/api/v1/neural/runs/{run_id}"): READ,
    ("GET", "/api/v1/neural/searches"): READ,
    ("POST", "/api/v1/neural/searches"): OPERATE,
    ("GET", "/api/v1/neural/searches/{job_id}"): READ,
    ("GET", "/api/v1/neural/train"): READ,
    ("POST", "/api/v1/neural/train"): OPERATE,
    ("GET", "/api/v1/neural/train/{session_id}"): READ,
    ("DELETE", "/api/v1/neural/train/{session_id}"): OPERATE,
    ("GET", "/api/v1/neural/train/{session_id}/logs"): READ,
    ("GET", "/api/v1/neural/train/{session_id}/metrics"): READ,
    ("GET", "/api/v1/neural/train/{session_id}/status"): READ,
    ("GET", "/api/v1/neural/models/{model_id}/robustness"): READ,
    ("GET", "/api/v1/neural/retrain-policies"): READ,
    ("POST", "/api/v1/neural/retrain-policies"): OPERATE,
    ("PATCH", "/api/v1/neural/train/{session_id}"): OPERATE,
    ("GET", "/api/v1/neural/train/{session_id}/steps"): READ,
    ("DELETE", "/api/v1/neural/searches/{job_id}"): OPERATE,
    ("GET", "/api/v1/neural/cross-validations"): READ,
    ("POST", "/api/v1/neural/cross-validations"): OPERATE,
    ("GET", "/api/v1/neural/cross-validations/{cv_id}"): READ,
    ("GET", "/api/v1/neural/cross-validations/{cv_id}/predictions"): READ,
    ("POST", "/api/v1/neural/cross-validations/{cv_id}/train"): OPERATE,
    ("GET", "/api/v1/schema/"): READ,
}
ROLES = ["anonymous", "viewer", "operator", "staff", "admin"]  # staff: is_staff, no permission
ALLOWED = {
    PUBLIC: set(ROLES),
    READ: {"viewer", "operator", "staff", "admin"},
    OPERATE: {"operator", "staff", "admin"},
    ADMIN: {"admin"},
}


def schema_operations() -> set[tuple[str, str]]:
    schema = SchemaGenerator().get_schema(request=None, public=True)
    return {(method.upper(), path) for path, operations in schema["paths"].items() for method in operations}


def test_every_operation_has_a_declared_rule():
    operations = schema_operations()
    assert operations - set(RULES) == set(), "declare who may call these in RULES"
    assert set(RULES) - operations == set(), "these are no longer in the schema"


@pytest.fixture
def clients(db, viewer, admin_user) -> dict[str, APIClient]:
    staff = UserFactory(username="staff-member", is_staff=True)
    users = {"viewer": viewer, "operator": UserFactory(username="operator"), "staff": staff, "admin": admin_user}
    clients = {"anonymous": APIClient()}
    for role, account in users.items():
        clients[role] = APIClient()
        clients[role].credentials(HTTP_AUTHORIZATION=f"Token {api_token(account)}")
    return clients


def test_every_role_gets_what_its_rule_allows_on_every_operation(clients):
    """Permission is checked before the body or the object: an empty body and made-up ids are
    enough to see a 401/403 or get past it (whatever 4xx follows is the view's business)."""
    wrong = []
    for (method, path), rule in sorted(RULES.items()):
        url = re.sub(r"\{model_id\}", "no-such-model", re.sub(r"\{\w*id\}", "999999", path))
        for role in ROLES:
            res = clients[role].generic(method, url, "{}", content_type="application/json")
            if role in ALLOWED[rule]:
                ok = res.status_code not in (401, 403) and res.status_code < 500
            else:
                ok = res.status_code == (401 if role == "anonymous" else 403)
            if not ok:
                wrong.append(f"{role} {method} {path} ({rule}): {res.status_code}")
    assert not wrong, "\n".join(wrong)
