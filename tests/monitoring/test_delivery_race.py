"""Two workers racing for one alert's delivery: exactly one delivers (real threads, real DB)."""

from __future__ import annotations

import threading

import pytest
from django.core import mail
from django.db import connection

from neural.monitoring.delivery import alert_deliver
from neural.monitoring.models import Alert, AlertRule, DeliveryAttempt
from tests.factories import make_dataset


@pytest.mark.slow
@pytest.mark.django_db(transaction=True)
def test_no_alert_is_delivered_twice_when_workers_race():
    if connection.vendor != "postgresql":
        pytest.fail("this race needs PostgreSQL (row-level concurrency); set TEST_DATABASE_URL")
    from neural.registry.models import RegisteredModel

    make_dataset()
    model = RegisteredModel.objects.create(name="race", pattern="coordination")
    rule = AlertRule.objects.create(model=model, kind="accuracy_below", threshold=0.7, emails=["ops@example.com"])
    alerts = [Alert.objects.create(rule=rule, model=model, dedup_key=str(i), message=f"alert {i}") for i in range(20)]
    outcomes: dict[str, list[int]] = {"w1": [], "w2": []}
    barrier = threading.Barrier(2)

    def worker(name: str) -> None:
        try:
            barrier.wait()
            for alert in alerts:
                if alert_deliver(alert_id=alert.pk, worker=name):
                    outcomes[name].append(alert.pk)
        finally:
            connection.close()

    threads = [threading.Thread(target=worker, args=(n,)) for n in outcomes]
    for t in threads:
        t.start()
    for t in threads:
        t.join(60)
    delivered = outcomes["w1"] + outcomes["w2"]
    assert sorted(delivered) == sorted(a.pk for a in alerts)  # every alert once, none twice
    assert DeliveryAttempt.objects.filter(channel="dashboard").count() == 20
    assert len(mail.outbox) == 20
    assert set(Alert.objects.values_list("delivery_claimed_by", flat=True)) <= {"w1", "w2"}
