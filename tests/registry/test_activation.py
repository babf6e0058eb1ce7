"""Activation, rollback and deletion: one active version per model, even under races."""

from __future__ import annotations

import itertools
import threading

import pytest
from django.contrib.auth import get_user_model
from django.db import IntegrityError, connection, transaction
from django.test import Client

from neural.errors import Conflict
from neural.registry.models import ActivationEvent, ModelVersion, RegisteredModel
from neural.registry.services import model_version_activate


def _concurrently(requests: list[tuple[str, dict]], admin) -> list[int]:
    """POST each (url, body) from its own thread and database connection, all at once."""
    barrier = threading.Barrier(len(requests))
    codes: list[int] = [0] * len(requests)

    def worker(i: int, url: str, body: dict) -> None:
        try:
            client = Client()
            client.force_login(admin)
            barrier.wait()
            codes[i] = client.post(url, body, content_type="application/json").status_code
        finally:
            connection.close()

    threads = [threading.Thread(target=worker, args=(i, u, b)) for i, (u, b) in enumerate(requests)]
    for t in threads:
        t.start()
    for t in threads:
        t.join(60)
    return codes


@pytest.mark.django_db(transaction=True)
def test_it_keeps_one_active_version_under_concurrent_requests(model):
    admin = get_user_model().objects.create_superuser("root", "root@example.com", "pw")
    url = "/api/v1/neural/models/coord-model/activate"
    for round_ in range(6):
        targets = ["v2", "v3"] if round_ % 2 == 0 else ["v3", "v2"]
        codes = _concurrently([(url, {"version": t}) for t in targets], admin)
        active = list(ModelVersion.objects.filter(model=model, is_active=True))
        assert len(active) == 1, (round_, codes)
        assert all(code in (200, 409) for code in codes) and 200 in codes
    events = list(ActivationEvent.objects.filter(model=model).order_by("created_at", "pk"))
    # The history is a chain: each change starts from where the previous one ended.
    for before, after in itertools.pairwise(events):
        assert after.from_version == before.to_version
    assert events[-1].to_version == ModelVersion.objects.get(model=model, is_active=True).version


@pytest.mark.django_db(transaction=True)
def test_it_lets_exactly_one_of_two_identical_activations_win(model):
    admin = get_user_model().objects.create_superuser("root", "root@example.com", "pw")
    codes = _concurrently([("/api/v1/neural/models/coord-model/activate", {"version": "v2"})] * 2, admin)
    assert sorted(codes) == [200, 409]
    assert list(ModelVersion.objects.filter(model=model, is_active=True).values_list("version", flat=True)) == [2]
    assert ActivationEvent.objects.filter(model=model, to_version=2).count() == 1


def test_the_database_refuses_a_second_active_version(model):
    with pytest.raises(IntegrityError), transaction.atomic():
        ModelVersion.objects.filter(model=model, version=2).update(is_active=True)


def test_it_records_activation_and_rollback_with_who_and_from(model, admin_user):
    v3 = model.versions.get(version=3)
    model_version_activate(version=v3, user=admin_user)
    model_version_activate(version=model.versions.get(version=2), user=admin_user)
    first, second = ActivationEvent.objects.filter(model=model).order_by("pk")[1:]
    assert (first.action, first.from_version, first.to_version, first.user) == ("activate", 1, 3, admin_user)
    assert (second.action, second.from_version, second.to_version) == ("rollback", 3, 2)


def test_it_refuses_activating_the_active_version(model):
    with pytest.raises(Conflict):
        model_version_activate(version=model.versions.get(version=1))


def test_a_viewer_cannot_activate(api, model):
    res = api.post("/api/v1/neural/models/coord-model/activate", {"version": "v2"}, format="json")
    assert res.status_code == 403 and "admins" in res.json()["error"]
    assert model.versions.get(is_active=True).version == 1


def test_it_refuses_a_version_of_another_model(admin_api, model):
    RegisteredModel.objects.create(name="other", pattern="security")
    res = admin_api.post("/api/v1/neural/models/other/activate", {"version": "coord-model:v2"}, format="json")
    assert res.status_code == 400 and "not of 'other'" in res.json()["fields"]["version"]
    res = admin_api.post("/api/v1/neural/models/coord-model/activate", {"version": "v9"}, format="json")
    assert res.status_code == 404 and res.json()["fields"] == {"version": "model 'coord-model' has no version v9"}
    res = admin_api.post("/api/v1/neural/models/coord-model/activate", {"version": "latest"}, format="json")
    assert res.status_code == 400 and "version" in res.json()["fields"]
    assert model.versions.get(is_active=True).version == 1


def test_delete_refuses_a_model_with_an_active_version_unless_forced(
    admin_api, api, model, settings, django_capture_on_commit_callbacks
):
    from pathlib import Path

    folder = Path(settings.MODEL_STORAGE_PATH) / "coord-model" / "v1"
    assert api.delete("/api/v1/neural/models/coord-model").status_code == 403
    res = admin_api.delete("/api/v1/neural/models/coord-model")
    assert res.status_code == 409 and "force=true" in res.json()["error"]
    assert RegisteredModel.objects.filter(name="coord-model").exists() and folder.is_dir()
    with django_capture_on_commit_callbacks(execute=True):
        assert admin_api.delete("/api/v1/neural/models/coord-model?force=true").status_code == 204
    assert not folder.exists()
    assert not RegisteredModel.objects.filter(name="coord-model").exists()
    event = ActivationEvent.objects.get(model_name="coord-model", action="delete")
    assert event.from_version == 1 and event.model is None and event.user.is_staff


def test_delete_of_an_unknown_model_is_404(admin_api, db):
    assert admin_api.delete("/api/v1/neural/models/ghost").status_code == 404


def test_delete_removes_the_log_and_feedback_without_loading_a_row(model, monkeypatch):
    from neural.monitoring.models import Feedback
    from neural.monitoring.services import feedback_record
    from neural.registry.services import model_delete
    from neural.serving import services as serving
    from neural.serving.models import PredictionLog
    from tests.serving.test_services import rows

    _, results = serving.predict(model_ref="coord-model", records=rows(model.versions.get(version=1).dataset, 6))
    feedback_record(prediction_id=results[0]["prediction_id"], actual=True)
    assert PredictionLog.objects.count() == 6 and Feedback.objects.count() == 1
    loaded = []
    for cls in (PredictionLog, Feedback):
        original = cls.from_db.__func__
        monkeypatch.setattr(cls, "from_db", classmethod(lambda c, *a, o=original: loaded.append(c) or o(c, *a)))
    model_delete(model=model, force=True)
    assert loaded == []  # Django's cascade would have built an object per logged prediction
    assert PredictionLog.objects.count() == 0 and Feedback.objects.count() == 0


def test_it_tells_open_pages_about_an_activation_after_the_commit(
    model, admin_user, monkeypatch, django_capture_on_commit_callbacks
):
    from dashboard.consumers import DashboardConsumer
    from neural.registry import services

    sent = []
    monkeypatch.setattr(services, "broadcast", lambda group, kind, data: sent.append((group, kind, data)))
    v2 = model.versions.get(version=2)
    with django_capture_on_commit_callbacks(execute=False) as callbacks:
        model_version_activate(version=v2, user=admin_user)
    assert sent == []  # nothing before the commit: the database is the truth
    for callback in callbacks:
        callback()
    assert sent == [
        (
            "dashboard",
            "registry.activated",
            {
                "model": "coord-model",
                "version": "v2",
                "from_version": "v1",
                "validation_accuracy": v2.metrics.get("val_accuracy"),
                "test_accuracy": v2.test_metrics.get("accuracy"),
            },
        )
    ]
    assert DashboardConsumer.registry_activated is DashboardConsumer.forward  # /ws/dashboard/ passes it on
