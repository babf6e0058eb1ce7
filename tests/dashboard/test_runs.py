"""The runs table at /sessions/: filters, sort, paging and a bounded number of queries a page."""

from __future__ import annotations

from datetime import timedelta

import pytest
from django.db import connection
from django.test.utils import CaptureQueriesContext
from django.utils import timezone

from neural.training.models import TrainingSession
from tests.factories import make_dataset

pytestmark = pytest.mark.django_db


def seed_runs(dataset, n: int) -> list[TrainingSession]:
    now = timezone.now()
    statuses = ["succeeded", "failed", "running", "stopped"]
    runs = [
        TrainingSession(
            name=f"run-{i}",
            dataset=dataset,
            pattern="coordination",
            model_name=f"model-{i % 3}",
            config={},
            status=statuses[i % 4],
            epoch=i % 10,
            epochs=10,
            metrics={"val_accuracy": round((i % 100) / 100, 2)} if i % 5 else {"val_accuracy": "n/a"},
            started_at=now - timedelta(minutes=n - i),
            finished_at=now - timedelta(minutes=n - i) + timedelta(seconds=30),
        )
        for i in range(n)
    ]
    return TrainingSession.objects.bulk_create(runs, batch_size=2000)


def ids_on(html: str) -> list[int]:
    import re

    return [int(x) for x in re.findall(r'<tr data-session="(\d+)"', html)]


@pytest.fixture
def dataset():
    return make_dataset(name="runs-ds", rows=40)


def test_it_pages_sorts_and_filters_runs(client, user, dataset):
    runs = seed_runs(dataset, 30)
    client.force_login(user)
    html = client.get("/sessions/?per_page=25&sort=-started_at").content.decode()
    newest = sorted(runs, key=lambda r: r.started_at, reverse=True)
    assert ids_on(html) == [r.pk for r in newest[:25]]
    assert "rows 1–25 of 30" in html
    second = client.get("/sessions/?per_page=25&sort=-started_at&page=2").content.decode()
    assert ids_on(second) == [r.pk for r in newest[25:]]

    failed = client.get("/sessions/?status=failed&sort=started_at").content.decode()
    expected = sorted((r for r in runs if r.status == "failed"), key=lambda r: r.started_at)
    assert ids_on(failed) == [r.pk for r in expected]

    found = client.get("/sessions/?q=run-17").content.decode()
    assert ids_on(found) == [runs[17].pk]


def test_it_sorts_and_filters_by_a_recorded_metric_and_puts_non_numbers_last(client, user, dataset):
    runs = seed_runs(dataset, 20)
    client.force_login(user)
    html = client.get("/sessions/?sort=-val_accuracy").content.decode()
    numeric = [r for r in runs if isinstance(r.metrics["val_accuracy"], float)]
    best = sorted(numeric, key=lambda r: (r.metrics["val_accuracy"], r.pk), reverse=True)
    assert ids_on(html)[: len(best)] == [r.pk for r in best]
    assert set(ids_on(html)[len(best) :]) == {r.pk for r in runs if r not in numeric}

    high = client.get("/sessions/?metric=val_accuracy&min=0.15").content.decode()
    assert set(ids_on(high)) == {r.pk for r in numeric if r.metrics["val_accuracy"] >= 0.15}


def test_it_names_the_bad_parameter_with_a_400(client, user, dataset):
    client.force_login(user)
    for query, field in [
        ("status=done", "status"),
        ("from=yesterday", "from"),
        ("sort=drop%20table", "sort"),
        ("metric=val_accuracy&min=lots", "min"),
        ("metric=../x", "metric"),
        ("min=0.5", "metric"),
    ]:
        res = client.get(f"/sessions/?{query}")
        assert res.status_code == 400, query
        assert f"<strong>{field}</strong>" in res.content.decode(), query


def test_it_filters_by_date_range(client, user, dataset):
    runs = seed_runs(dataset, 4)
    old = runs[0]
    TrainingSession.objects.filter(pk=old.pk).update(created_at=timezone.now() - timedelta(days=40))
    client.force_login(user)
    since = (timezone.now() - timedelta(days=7)).date().isoformat()
    html = client.get(f"/sessions/?from={since}").content.decode()
    assert set(ids_on(html)) == {r.pk for r in runs[1:]}


@pytest.mark.slow
def test_it_reads_any_page_of_ten_thousand_runs_in_a_bounded_number_of_queries(client, user, dataset):
    seed_runs(dataset, 10_000)
    client.force_login(user)
    client.get("/sessions/")  # the session and user rows are cached after this
    for query in [
        "page=1&sort=-started_at",
        "page=200&sort=-started_at&status=succeeded",
        "page=9999&sort=val_accuracy",
        "page=3&sort=-started_at&status=succeeded&q=run-1",
        "page=2&metric=val_accuracy&min=0.5&sort=-val_accuracy",
    ]:
        with CaptureQueriesContext(connection) as queries:
            res = client.get(f"/sessions/?{query}")
        assert res.status_code == 200, query
        assert len(ids_on(res.content.decode())) > 0, query
        # session + user, COUNT, the page (data sets joined), the model names for the filter.
        assert len(queries) <= 5, [q["sql"][:120] for q in queries]


def test_it_filters_by_a_training_option(client, user, dataset):
    runs = seed_runs(dataset, 6)
    for i, run in enumerate(runs):
        run.config = {"learning_rate": 0.01 if i % 2 else 0.002, "hidden_sizes": [64, 32] if i < 2 else [256, 128]}
    TrainingSession.objects.bulk_update(runs, ["config"])
    client.force_login(user)
    fast = client.get("/sessions/?option=learning_rate&value=0.01").content.decode()
    assert set(ids_on(fast)) == {r.pk for r in runs[1::2]}
    small = client.get("/sessions/?option=hidden_sizes&value=[64,%2032]").content.decode()
    assert set(ids_on(small)) == {runs[0].pk, runs[1].pk}
    for name in ("config__x", "learning_rate__contains", "../x", ""):
        res = client.get(f"/sessions/?option={name}&value=1")
        assert res.status_code == 400 and "<strong>option</strong>" in res.content.decode(), name


def test_it_filters_by_a_tag_and_shows_each_runs_tags(client, user, dataset):
    runs = seed_runs(dataset, 5)
    tags = [["baseline"], ["baseline-2"], ["sweep", "baseline"], [], ["Baseline"]]
    for run, t in zip(runs, tags, strict=True):
        run.tags = t
    TrainingSession.objects.bulk_update(runs, ["tags"])
    client.force_login(user)
    html = client.get("/sessions/?tag=baseline").content.decode()
    # The whole tag, as written: not a tag it begins (baseline-2) nor another case of it.
    assert set(ids_on(html)) == {runs[0].pk, runs[2].pk}
    assert '<a class="tag" href="?tag=sweep">sweep</a>' in html
    res = client.get("/sessions/?tag=" + "x" * 41)
    assert res.status_code == 400 and "<strong>tag</strong>" in res.content.decode()
