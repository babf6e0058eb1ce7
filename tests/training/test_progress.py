from __future__ import annotations

import pytest

from neural.training import progress
from neural.training.models import StepMetric
from tests.factories import train_here


@pytest.fixture
def sent(monkeypatch):
    events: list[tuple[str, dict]] = []
    monkeypatch.setattr(progress, "broadcast", lambda group, kind, data: events.append((kind, data)))
    return events


def test_it_stores_and_sends_batch_losses_at_the_rate_it_is_given(dataset, monkeypatch, sent):
    monkeypatch.setattr(progress, "STEP_FIRST_S", 0.0)
    monkeypatch.setattr(progress, "STEP_INTERVAL_S", 0.0)  # every batch, so the count is exact
    session = train_here(dataset=dataset, model_name="m", epochs=2, batch_size=64, early_stopping=False)
    steps = StepMetric.objects.filter(session=session).order_by("step")
    per_epoch = steps.filter(epoch=1).count()
    assert per_epoch > 1 and steps.count() == 2 * per_epoch
    assert list(steps.values_list("step", flat=True)) == list(range(1, 2 * per_epoch + 1))
    frames = [d for kind, d in sent if kind == "training.step"]
    assert [f["global_step"] for f in frames] == list(range(1, 2 * per_epoch + 1))
    assert frames[-1]["loss"] == steps.last().loss and frames[-1]["steps"] == per_epoch


def test_it_records_no_batch_loss_for_short_epochs_and_usage_for_every_epoch(dataset, monkeypatch, sent):
    monkeypatch.setattr(progress, "STEP_FIRST_S", 3600.0)  # every epoch here is shorter than that
    session = train_here(dataset=dataset, model_name="m", epochs=2, early_stopping=False)
    assert not StepMetric.objects.filter(session=session).exists()
    rows = list(session.epoch_metrics.order_by("epoch"))
    assert all(r.rss_bytes > 10_000_000 and r.cpu_percent >= 0 for r in rows)
    assert rows[0].is_best
    epochs = [d for kind, d in sent if kind == "training.epoch"]
    assert epochs[0]["rss_bytes"] == rows[0].rss_bytes and epochs[0]["is_best"] is True
    summaries = session.epoch_summaries.filter(width=16).get()
    assert summaries.stats["val_loss"][0] == rows[0].val_loss and summaries.stats["rss_bytes"][1] == rows[1].rss_bytes


def test_it_lets_an_operator_tag_and_note_a_run_and_refuses_bad_tags(api, trained):
    url = f"/api/v1/neural/train/{trained.pk}"
    res = api.patch(url, {"tags": ["baseline", "lr-0.01", "baseline"], "notes": "first try"}, format="json")
    assert res.status_code == 200 and res.json()["tags"] == ["baseline", "lr-0.01"]
    assert api.get(url).json()["notes"] == "first try"
    for bad in (["../etc"], ["a b"], ["x" * 41], [f"t{i}" for i in range(21)]):
        res = api.patch(url, {"tags": bad}, format="json")
        assert res.status_code == 400 and "tags" in next(iter(res.json()["fields"])), bad
    trained.refresh_from_db()
    assert trained.tags == ["baseline", "lr-0.01"]


def test_a_viewer_cannot_tag_a_run(trained):
    from django.contrib.auth.models import Group
    from rest_framework.test import APIClient

    from tests.factories import UserFactory, api_token

    viewer = UserFactory(username="viewer")
    viewer.groups.add(Group.objects.get(name="viewers"))
    client = APIClient()
    client.credentials(HTTP_AUTHORIZATION=f"Token {api_token(viewer)}")
    res = client.patch(f"/api/v1/neural/train/{trained.pk}", {"tags": ["x"]}, format="json")
    assert res.status_code == 403
    trained.refresh_from_db()
    assert trained.tags == []
