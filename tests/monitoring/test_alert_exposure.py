"""Alert rules and deliveries: no webhook to a non-public address, and what viewers see of them."""

from __future__ import annotations

import pytest
from django.contrib.auth.models import Group
from rest_framework.test import APIClient

from neural.monitoring.alerts import alerts_evaluate
from neural.monitoring.delivery import alert_deliver, webhook_attempt
from neural.monitoring.models import AlertRule, DeliveryAttempt
from neural.registry.models import RegisteredModel
from tests.factories import UserFactory
from tests.monitoring.conftest import serve
from tests.monitoring.test_alerts import _label


@pytest.fixture
def viewer_api(db) -> APIClient:
    user = UserFactory(username="watcher")
    user.groups.add(Group.objects.get(name="viewers"))
    client = APIClient()
    client.force_authenticate(user)
    return client


@pytest.mark.parametrize(
    "url",
    [
        "http://169.254.169.254/latest/meta-data/",
        "http://10.0.0.7:8080/hook",
        "http://[::1]:8000/",
        "http://2130706433/",
        "http://0.0.0.0:8000/",
        "http://x@127.0.0.2/",
        "http://localhost:6379/",
    ],
)
def test_a_rule_with_a_non_public_webhook_is_refused_naming_the_field(api, settings, url):
    settings.OUTBOUND_ALLOWED_CIDRS = []
    RegisteredModel.objects.create(name="coord-model", pattern="coordination")
    body = {"model": "coord-model", "kind": "accuracy_below", "threshold": 0.7, "webhook_url": url}
    res = api.post("/api/v1/neural/alert-rules", body, format="json")
    assert res.status_code == 400, res.json()
    assert "webhook_url" in res.json()["fields"] and not AlertRule.objects.exists()


def test_a_webhook_that_became_private_is_refused_at_delivery_and_not_retried(delivered, settings):
    """The rule was stored while 127.0.0.1 was allowed (as if its name had resolved to a public
    address then); at delivery time it is not."""
    settings.OUTBOUND_ALLOWED_CIDRS = []
    alert = delivered.alerts.get()
    assert webhook_attempt(alert_id=alert.pk, attempt=2) is None  # permanent: no backoff
    hook = DeliveryAttempt.objects.get(channel="webhook", attempt=2)
    assert not hook.ok and hook.status_code is None and hook.error.startswith("refused")


@pytest.fixture
def delivered(api, version, fresh_rows, settings):
    """A rule with an address and a webhook with credentials, fired and delivered once (to a
    closed port, so the attempt fails with an error text)."""
    settings.MONITORING_WEBHOOK_TIMEOUT_S = 1
    rule = AlertRule.objects.create(
        model=version.model,
        kind="accuracy_below",
        threshold=0.7,
        emails=["oncall@example.com"],
        webhook_url="http://hookuser:hookpass@127.0.0.1:9/in",
        webhook_secret="signing-secret",
    )
    _label(api, serve(version, fresh_rows.head(30)), wrong=True)
    (alert,) = alerts_evaluate()
    alert_deliver(alert_id=alert.pk)
    return rule


def test_a_viewer_sees_no_address_no_webhook_and_no_delivery_error(viewer_api, delivered):
    rules = viewer_api.get("/api/v1/neural/alert-rules")
    alerts = viewer_api.get("/api/v1/neural/alerts")
    assert rules.status_code == alerts.status_code == 200
    text = rules.content.decode() + alerts.content.decode()
    for secret in ("oncall@", "hookuser", "hookpass", "127.0.0.1", "signing-secret", "Connection"):
        assert secret not in text, secret
    (rule,) = rules.json()
    assert rule["emails"] == ["o***@example.com"] and rule["webhook_url"] == "(set)"
    deliveries = alerts.json()["results"][0]["deliveries"]
    assert {d["channel"] for d in deliveries} == {"dashboard", "email", "webhook"}
    webhook = next(d for d in deliveries if d["channel"] == "webhook")
    assert webhook["ok"] is False and webhook["error"] == "" and webhook["status_code"] is None


def test_an_operator_sees_addresses_and_urls_but_never_a_password_or_secret(api, delivered):
    text = api.get("/api/v1/neural/alert-rules").content.decode() + api.get("/api/v1/neural/alerts").content.decode()
    assert "oncall@example.com" in text and "hookuser:***@127.0.0.1:9/in" in text
    assert "hookpass" not in text and "signing-secret" not in text
    webhook = DeliveryAttempt.objects.get(channel="webhook")
    assert webhook.target == "http://127.0.0.1:9/in" and webhook.error  # stored without credentials


def test_the_admin_form_never_shows_the_secret_and_checks_the_url(admin_client, settings):
    settings.OUTBOUND_ALLOWED_CIDRS = []
    model = RegisteredModel.objects.create(name="coord-model", pattern="coordination")
    rule = AlertRule.objects.create(model=model, kind="accuracy_below", threshold=0.7, webhook_secret="signing-secret")
    url = f"/admin/monitoring/alertrule/{rule.pk}/change/"
    assert "signing-secret" not in admin_client.get(url).content.decode()
    form = {"model": model.pk, "kind": "accuracy_below", "threshold": 0.5, "consecutive": 1, "window_s": 60}
    form.update(min_count=1, cooldown_s=0, emails="[]", enabled="on", webhook_secret="")
    res = admin_client.post(url, {**form, "webhook_url": "http://169.254.169.254/"})
    assert res.status_code == 200 and "not a public address" in res.content.decode()
    assert admin_client.post(url, {**form, "webhook_url": ""}).status_code == 302
    rule.refresh_from_db()
    assert rule.threshold == 0.5 and rule.webhook_secret == "signing-secret"  # blank kept it
