"""The overview page and `neural dashboard`: accuracy trend, drift, open alerts, running trainings."""

from __future__ import annotations

import io
import json

from django.core.management import call_command

from neural.monitoring.models import Alert, AlertRule


def _alert(version) -> Alert:
    rule = AlertRule.objects.create(model=version.model, kind="accuracy_below", threshold=0.7)
    return Alert.objects.create(rule=rule, model=version.model, value=0.4, message="coord-model v1: accuracy 0.400")


def test_the_overview_lists_open_alerts_with_an_acknowledge_button(client, user, version):
    alert = _alert(version)
    client.force_login(user)
    page = client.get("/").content.decode()
    assert f'data-alert="{alert.pk}"' in page and "Acknowledge" in page and "coord-model v1: accuracy 0.400" in page
    summary = client.get("/monitoring/summary.json").json()
    assert [a["id"] for a in summary["alerts"]] == [alert.pk]
    assert summary["models"][0]["name"] == "coord-model" and summary["models"][0]["target"] == 0.7


def test_neural_dashboard_prints_the_url_and_a_summary(version):
    _alert(version)
    out = io.StringIO()
    call_command("neural", "dashboard", "--json", stdout=out)
    doc = json.loads(out.getvalue())
    assert doc["url"].startswith("http://") and len(doc["alerts"]) == 1
    out = io.StringIO()
    call_command("neural", "dashboard", stdout=out)
    assert "firing alerts: 1" in out.getvalue() and "coord-model v1" in out.getvalue()


def test_a_models_summary_averages_the_served_buckets_and_adds_nothing_to_them(version, fresh_rows):
    from neural.monitoring.overview import model_overview
    from tests.monitoring.conftest import serve

    serve(version, fresh_rows)
    summary = model_overview(version)
    served = [b for b in summary["trend"] if b["version"] == "v1" and b["estimated_accuracy"] is not None]
    assert served, summary["trend"]
    mean = sum(b["estimated_accuracy"] for b in served) / len(served)
    assert summary["estimated_accuracy"] == round(mean, 6)
    assert all("weight" not in b for b in summary["trend"])


def test_the_admin_lists_prediction_logs_newest_first(admin_client, version, fresh_rows):
    import time

    from neural.serving.models import PredictionLog
    from tests.monitoring.conftest import serve

    serve(version, fresh_rows.head(3))
    time.sleep(0.005)  # the next ids carry a later millisecond
    serve(version, fresh_rows.iloc[3:4])
    page = admin_client.get("/admin/serving/predictionlog/")
    assert page.status_code == 200
    newest = max(PredictionLog.objects.values_list("pk", flat=True))
    assert PredictionLog.objects.order_by("-created_at", "-pk").first().pk == newest  # UUIDv7: time order
    assert page.context["cl"].result_list[0].pk == newest
