"""Delivering a claimed alert: dashboard, email, webhook; every attempt is a DeliveryAttempt row.

The dashboard and email go first, then one webhook attempt with a short timeout; a failed
webhook is retried by a Celery task with exponential backoff, so a slow or broken endpoint
never holds up other deliveries. Webhook bodies are signed: ``X-PhotonDrift-Signature:
sha256=<hex HMAC-SHA256 of the raw body with the rule's secret>``.
"""

from __future__ import annotations

import hashlib
import hmac
import json
import socket
import time

import urllib3
from celery import current_app
from django.conf import settings
from django.core.mail import send_mail

from neural.monitoring.alerts import alert_claim, alert_payload
from neural.monitoring.models import Alert, DeliveryAttempt
from photondrift import outbound
from photondrift.realtime import DASHBOARD_GROUP, broadcast

Channel = DeliveryAttempt.Channel


def webhook_signature(secret: str, body: bytes) -> str:
    return "sha256=" + hmac.new(secret.encode(), body, hashlib.sha256).hexdigest()


def _record(alert: Alert, channel: str, target: str, started: float, worker: str, **fields) -> DeliveryAttempt:
    return DeliveryAttempt.objects.create(
        alert=alert,
        channel=channel,
        target=target,
        duration_ms=(time.perf_counter() - started) * 1000,
        worker=worker,
        **fields,
    )


def alert_deliver(*, alert_id: int, worker: str | None = None) -> bool:
    """Claim the alert and deliver it once; False when another worker claimed it first."""
    worker = worker or socket.gethostname()
    if not alert_claim(alert_id=alert_id, worker=worker):
        return False
    alert = Alert.objects.select_related("rule", "model").get(pk=alert_id)
    payload = alert_payload(alert)
    started = time.perf_counter()
    # Database first: whoever hears the event and reads the alert finds its dashboard attempt
    # (broadcast logs its own failures; pages catch up from the database).
    _record(alert, Channel.DASHBOARD, DASHBOARD_GROUP, started, worker, ok=True)
    broadcast(DASHBOARD_GROUP, "monitoring.alert", payload)
    for address in alert.rule.emails:
        started = time.perf_counter()
        try:
            send_mail(
                subject=f"[PhotonDrift] {alert.status}: {alert.message[:120]}",
                message=json.dumps(payload, indent=2),
                from_email=None,
                recipient_list=[address],
            )
            _record(alert, Channel.EMAIL, address, started, worker, ok=True)
        except Exception as exc:  # any transport failure is recorded on the attempt, then the next goes
            _record(alert, Channel.EMAIL, address, started, worker, ok=False, error=f"{type(exc).__name__}: {exc}")
    if alert.rule.webhook_url:
        delay = webhook_attempt(alert_id=alert.pk, attempt=1, worker=worker)
        if delay is not None:
            # By name: the tasks module imports this one.
            webhook = current_app.signature("neural.monitoring.tasks.alert_webhook_task", args=(alert.pk, 2))
            webhook.apply_async(countdown=delay)
    return True


def webhook_attempt(*, alert_id: int, attempt: int, worker: str | None = None) -> float | None:
    """POST the signed alert once through photondrift.outbound; returns the backoff before the
    next attempt, or None when it succeeded, was refused (a non-public address) or this was the
    last allowed attempt. The recorded target never holds the URL's credentials."""
    worker = worker or socket.gethostname()
    alert = Alert.objects.select_related("rule", "model").get(pk=alert_id)
    rule = alert.rule
    body = json.dumps({"type": "monitoring.alert", "attempt": attempt, **alert_payload(alert)}, sort_keys=True).encode()
    headers = {"Content-Type": "application/json", "User-Agent": "PhotonDrift-Neural"}
    if rule.webhook_secret:
        headers["X-PhotonDrift-Signature"] = webhook_signature(rule.webhook_secret, body)
    started = time.perf_counter()
    status, error, permanent = None, "", False
    try:
        status = outbound.post(
            rule.webhook_url, body=body, headers=headers, timeout_s=settings.MONITORING_WEBHOOK_TIMEOUT_S
        )
        if not 200 <= status < 300:
            error = f"HTTP {status}"
    except outbound.OutboundRefused as exc:
        error, permanent = f"refused: {exc}", True
    except (urllib3.exceptions.HTTPError, OSError) as exc:
        error = type(exc).__name__
    ok = status is not None and 200 <= status < 300
    _record(
        alert,
        Channel.WEBHOOK,
        outbound.without_credentials(rule.webhook_url),
        started,
        worker,
        attempt=attempt,
        ok=ok,
        status_code=status,
        error=error,
    )
    if ok or permanent or attempt >= settings.MONITORING_WEBHOOK_ATTEMPTS:
        return None
    return settings.MONITORING_WEBHOOK_BACKOFF_S * 2 ** (attempt - 1)
