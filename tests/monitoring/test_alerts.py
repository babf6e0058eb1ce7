"""Alert rules and alerts: firing after bad feedback, dedup, lifecycle, cool-down, delivery."""

from __future__ import annotations

import hashlib
import hmac
import io
import json
import threading
from http.server import BaseHTTPRequestHandler, HTTPServer

import numpy as np
import pytest
from django.core import mail
from django.core.management import call_command

from neural.monitoring.alerts import alerts_evaluate
from neural.monitoring.delivery import alert_deliver, webhook_attempt
from neural.monitoring.models import Alert, AlertRule, DeliveryAttempt
from tests.monitoring.conftest import serve


def _label(api, results, *, wrong: bool) -> None:
    items = [
        {"prediction_id": r["prediction_id"], "actual": (not r["prediction"]) if wrong else r["prediction"]}
        for r in results
    ]
    assert api.post("/api/v1/neural/feedback/bulk", {"items": items}, format="json").status_code == 201


@pytest.fixture
def rule(api, version):
    res = api.post(
        "/api/v1/neural/alert-rules",
        {
            "model": "coord-model",
            "kind": "accuracy_below",
            "threshold": 0.7,
            "min_count": 20,
            "cooldown_s": 3600,
            "emails": ["ops@example.com"],
        },
        format="json",
    )
    assert res.status_code == 201, res.json()
    return AlertRule.objects.get(pk=res.json()["id"])


def test_it_fires_once_after_bad_feedback_and_dedups_repeats(api, rule, version, fresh_rows):
    results = serve(version, fresh_rows.head(40))
    _label(api, results, wrong=True)
    fired = alerts_evaluate()
    assert len(fired) == 1 and fired[0].status == "firing" and fired[0].value == 0.0
    assert alerts_evaluate() == []  # still breached: the open alert is seen again, not duplicated
    alert = Alert.objects.get()
    assert alert.occurrences == 2


def test_it_walks_firing_acknowledged_resolved_then_cools_down(api, rule, version, fresh_rows):
    results = serve(version, fresh_rows.head(40))
    _label(api, results, wrong=True)
    (alert,) = alerts_evaluate()
    res = api.post(f"/api/v1/neural/alerts/{alert.pk}/acknowledge")
    assert res.status_code == 200 and res.json()["status"] == "acknowledged"
    assert api.post(f"/api/v1/neural/alerts/{alert.pk}/acknowledge").status_code == 409
    _label(api, results, wrong=False)  # corrected labels: accuracy is back to 1.0
    assert alerts_evaluate() == []
    alert.refresh_from_db()
    assert alert.status == "resolved" and alert.resolved_at is not None
    _label(api, results, wrong=True)
    assert alerts_evaluate() == []  # breached again inside the cool-down: quiet
    assert Alert.objects.count() == 1


def test_it_delivers_to_the_dashboard_and_by_email_once(api, rule, version, fresh_rows):
    _label(api, serve(version, fresh_rows.head(30)), wrong=True)
    (alert,) = alerts_evaluate()
    assert alert_deliver(alert_id=alert.pk, worker="w1") is True
    assert alert_deliver(alert_id=alert.pk, worker="w2") is False
    assert sorted(DeliveryAttempt.objects.values_list("channel", flat=True)) == ["dashboard", "email"]
    assert len(mail.outbox) == 1 and mail.outbox[0].to == ["ops@example.com"]
    body = api.get("/api/v1/neural/alerts", {"status": "firing"}).json()
    assert body["count"] == 1 and body["results"][0]["id"] == alert.pk  # paginated, as every list


class _Hook(BaseHTTPRequestHandler):
    codes: list[int] = []
    seen: list[tuple[bytes, str]] = []

    def do_POST(self):
        body = self.rfile.read(int(self.headers["Content-Length"]))
        type(self).seen.append((body, self.headers.get("X-PhotonDrift-Signature", "")))
        self.send_response(type(self).codes.pop(0) if type(self).codes else 200)
        self.end_headers()

    def log_message(self, *args):
        pass


@pytest.fixture
def hook_server():
    _Hook.codes, _Hook.seen = [500, 500], []
    server = HTTPServer(("127.0.0.1", 0), _Hook)
    thread = threading.Thread(target=server.serve_forever, daemon=True)
    thread.start()
    yield f"http://127.0.0.1:{server.server_port}/hook"
    server.shutdown()


def test_a_failing_webhook_is_retried_with_backoff_and_every_attempt_recorded(
    api, version, fresh_rows, hook_server, settings
):
    settings.MONITORING_WEBHOOK_BACKOFF_S = 3.0
    rule = AlertRule.objects.create(
        model=version.model, kind="accuracy_below", threshold=0.7, webhook_url=hook_server, webhook_secret="s3cret"
    )
    _label(api, serve(version, fresh_rows.head(30)), wrong=True)
    (alert,) = alerts_evaluate()
    assert alert.rule == rule
    alert_deliver(alert_id=alert.pk)  # dashboard ok, webhook attempt 1 -> 500; attempt 2 is queued
    assert webhook_attempt(alert_id=alert.pk, attempt=2) == 6.0  # 500 again: next backoff doubles
    assert webhook_attempt(alert_id=alert.pk, attempt=3) is None  # 200: done
    hooks = list(DeliveryAttempt.objects.filter(channel="webhook").order_by("attempt"))
    assert [(h.attempt, h.ok, h.status_code) for h in hooks] == [(1, False, 500), (2, False, 500), (3, True, 200)]
    assert "500" in hooks[0].error
    body, signature = _Hook.seen[-1]
    assert signature == "sha256=" + hmac.new(b"s3cret", body, hashlib.sha256).hexdigest()
    assert json.loads(body)["id"] == alert.pk


def test_an_unreachable_webhook_is_recorded_and_does_not_block_email(api, version, fresh_rows, settings):
    settings.MONITORING_WEBHOOK_TIMEOUT_S = 1
    AlertRule.objects.create(
        model=version.model,
        kind="accuracy_below",
        threshold=0.7,
        emails=["a@example.com"],
        webhook_url="http://127.0.0.1:9/unreachable",
    )
    _label(api, serve(version, fresh_rows.head(30)), wrong=True)
    (alert,) = alerts_evaluate()
    alert_deliver(alert_id=alert.pk)
    assert len(mail.outbox) == 1
    hook = DeliveryAttempt.objects.get(channel="webhook")
    assert hook.ok is False and hook.error


@pytest.mark.parametrize(
    ("body", "field"),
    [
        ({"model": "coord-model", "kind": "accuracy_below", "threshold": 1.5}, "threshold"),
        ({"model": "coord-model", "kind": "drift_above", "threshold": -0.2}, "threshold"),
        ({"kind": "accuracy_below", "threshold": 0.5}, "model"),
        ({"model": "coord-model", "kind": "accuracy_below", "webhook_url": "ftp://x/y"}, "webhook_url"),
        ({"model": "coord-model", "kind": "sometimes"}, "kind"),
    ],
)
def test_it_refuses_bad_rules_with_a_400_naming_the_field(api, version, body, field):
    res = api.post("/api/v1/neural/alert-rules", body, format="json")
    assert res.status_code == 400, res.json()
    assert field in res.json()["fields"]


def test_alerts_setup_creates_defaults_for_every_active_model(version):
    out = io.StringIO()
    call_command("neural", "alerts", "--setup", "--threshold-accuracy", "0.7", "--json", stdout=out)
    kinds = {r["kind"] for r in json.loads(out.getvalue())["rules"]}
    # robustness_below is opt-in: it also gates `neural deploy`, so --setup does not add it.
    assert kinds == set(AlertRule.Kind.values) - {"robustness_below"}
    call_command("neural", "alerts", "--setup", "--threshold-accuracy", "0.8", stdout=io.StringIO())
    assert AlertRule.objects.filter(kind="accuracy_below").get().threshold == 0.8  # updated, not duplicated
    from django_celery_beat.models import PeriodicTask

    assert PeriodicTask.objects.filter(task="neural.monitoring.tasks.monitoring_evaluate_task").exists()


def test_failed_and_non_finite_trainings_fire_training_alerts(version, dataset, user):
    from django.utils import timezone

    from neural.engine.config import TrainConfig
    from neural.engine.errors import NonFiniteLoss
    from neural.training.models import TrainingSession
    from neural.training.services import training_session_create, training_session_run

    AlertRule.objects.create(model=version.model, kind="training_failed")
    AlertRule.objects.create(model=version.model, kind="nan_loss")
    session = training_session_create(
        user=user,
        dataset=dataset,
        pattern="coordination",
        config=TrainConfig(epochs=2),
        model_name="coord-model",
        enqueue=False,
    )
    # An out-of-range learning rate: the run fails for real in the service.
    TrainingSession.objects.filter(pk=session.pk).update(config={**session.config, "learning_rate": 1e9})
    failed = training_session_run(session_id=session.pk, ran_in="test")
    assert failed.status == "failed"
    # The trainer's own message for a NaN loss, on a session row as training_session_run writes it.
    nan = TrainingSession.objects.create(
        dataset=dataset,
        pattern="coordination",
        model_name="coord-model",
        config=session.config,
        epochs=2,
        status="failed",
        finished_at=timezone.now(),
        error=NonFiniteLoss("loss became non-finite at epoch 2 (train nan, val nan)").message,
    )
    fired = {(a.rule.kind, a.dedup_key) for a in alerts_evaluate()}
    assert fired == {
        ("training_failed", f"session:{failed.pk}"),
        ("training_failed", f"session:{nan.pk}"),
        ("nan_loss", f"session:{nan.pk}"),
    }


def test_each_prediction_records_its_latency_and_the_p99_rule_judges_it(api, version, fresh_rows):
    from neural.serving.models import PredictionLog

    serve(version, fresh_rows.head(30))
    latencies = list(PredictionLog.objects.values_list("latency_ms", flat=True))
    assert len(latencies) == 30 and all(v is not None and v > 0 for v in latencies)
    res = api.post(
        "/api/v1/neural/alert-rules",
        {"model": "coord-model", "kind": "latency_p99_above", "threshold": 0, "min_count": 10},
        format="json",
    )
    assert res.status_code == 201, res.json()
    fired = alerts_evaluate()
    assert len(fired) == 1 and "latency p99" in fired[0].message
    assert fired[0].value == pytest.approx(float(np.percentile(latencies, 99)))
