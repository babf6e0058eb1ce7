"""Overview, monitoring and the alerts table: distinct pages; alert history filtered and paged."""

from __future__ import annotations

import re

import pytest

from neural.monitoring.models import Alert, AlertRule
from neural.registry.models import RegisteredModel

pytestmark = pytest.mark.django_db


def test_the_overview_and_monitoring_are_distinct_pages(client, user):
    client.force_login(user)
    overview = client.get("/").content.decode()
    monitoring = client.get("/monitoring/").content.decode()
    assert "<title>Overview" in overview and "<title>Monitoring" in monitoring
    assert 'id="train-form"' not in monitoring and 'id="model-monitoring"' not in overview
    assert "No active models yet" in monitoring  # an empty state, not blank axes
    assert 'rel="icon"' in overview and 'aria-current="page"' in overview


@pytest.fixture
def alerts(db):
    model = RegisteredModel.objects.create(name="watched", pattern="coordination")
    other = RegisteredModel.objects.create(name="other", pattern="security")
    accuracy = AlertRule.objects.create(model=model, kind="accuracy_below", threshold=0.7)
    drift = AlertRule.objects.create(model=other, kind="drift_above", threshold=0.2)
    rows = [
        Alert.objects.create(rule=accuracy, model=model, status="resolved", message="old dip", dedup_key="a"),
        Alert.objects.create(rule=accuracy, model=model, status="firing", message="accuracy 0.56", dedup_key="b"),
        Alert.objects.create(rule=drift, model=other, status="acknowledged", message="psi 0.4", dedup_key="c"),
    ]
    return rows


def ids(html: str) -> list[int]:
    return [int(x) for x in re.findall(r'<tr data-alert="(\d+)"', html)]


def test_the_alerts_page_keeps_the_history_and_filters_it(client, user, alerts):
    resolved, firing, acknowledged = alerts
    client.force_login(user)
    html = client.get("/alerts/").content.decode()
    assert sorted(ids(html)) == sorted(a.pk for a in alerts)
    assert 'class="status status-firing"' in html
    assert ids(client.get("/alerts/?state=open").content.decode()) == [acknowledged.pk, firing.pk]
    assert ids(client.get("/alerts/?model=watched&state=resolved").content.decode()) == [resolved.pk]
    assert ids(client.get("/alerts/?rule=drift_above").content.decode()) == [acknowledged.pk]
    assert ids(client.get("/alerts/?sort=id&per_page=25").content.decode()) == [a.pk for a in alerts]


def test_the_alerts_page_names_a_bad_filter(client, user, alerts):
    client.force_login(user)
    for query, field in [("state=burning", "state"), ("rule=x", "rule"), ("sort=message", "sort")]:
        res = client.get(f"/alerts/?{query}")
        assert res.status_code == 400 and f"<strong>{field}</strong>" in res.content.decode(), query


def test_favicon_ico_points_at_the_icon(client):
    res = client.get("/favicon.ico")
    assert res.status_code == 302 and res["Location"].endswith("favicon.svg")
