"""Alert rules, their evaluation, the alert lifecycle and delivery.

Three steps, as healthchecks does it: evaluation writes an Alert row (firing), a worker claims
its delivery atomically (``filter(pk=x, delivery_claimed_at=None).update(...) == 1``) so two
workers never send it twice, then each transport delivers and records every attempt. Dedup is a
partial unique index (one open alert per rule and key); a resolved alert starts a cool-down
during which the same rule and key stay quiet.
"""

from __future__ import annotations

import math
import socket
from dataclasses import dataclass
from datetime import timedelta
from urllib.parse import urlparse

import numpy as np
from celery import current_app
from django.db import IntegrityError, transaction
from django.db.models import F
from django.utils import timezone

from neural.errors import Conflict, DataError
from neural.monitoring.models import Alert, AlertRule, DriftReport, RetrainPolicy
from neural.monitoring.schedules import evaluation_schedule_ensure
from neural.monitoring.selectors import prediction_frame, with_estimates
from neural.monitoring.services import drift_check, validate_fraction
from neural.registry.models import RegisteredModel
from neural.serving.models import PredictionLog
from neural.training.models import TrainingSession
from photondrift import outbound
from photondrift.outbound import without_credentials
from photondrift.realtime import DASHBOARD_GROUP, AlertEvent, broadcast

Kind = AlertRule.Kind
FRACTION_KINDS = {Kind.ACCURACY_BELOW, Kind.ESTIMATED_ACCURACY_BELOW, Kind.DRIFT_ABOVE, Kind.ROBUSTNESS_BELOW}
TRAINING_KINDS = {Kind.TRAINING_FAILED, Kind.NAN_LOSS, Kind.LOSS_PLATEAU}


# --- rules ----------------------------------------------------------------------------------


def validate_webhook_url(url: str) -> str:
    """An http(s) URL whose host resolves to public addresses only (photondrift.outbound), checked
    when a rule is stored and again at every delivery (DNS may change in between)."""
    parsed = urlparse(url or "")
    if parsed.scheme not in ("http", "https") or not parsed.netloc:
        raise DataError(f"{without_credentials(url)!r} is not an http(s) URL", field="webhook_url")
    try:
        return outbound.check_url(url)
    except outbound.OutboundRefused as exc:
        raise DataError(f"webhook URL refused: {exc}", field="webhook_url") from exc


def alert_rule_create(
    *,
    model,
    kind: str,
    threshold: float = 0.0,
    consecutive: int = 1,
    window_s: int = 86400,
    min_count: int = 20,
    cooldown_s: int = 3600,
    emails: list[str] | None = None,
    webhook_url: str = "",
    webhook_secret: str = "",
) -> AlertRule:
    """Validate and store a rule. Fractions (accuracy, drift score) must lie in [0, 1]."""
    if model is None:
        raise DataError("a rule needs a model", field="model")
    if kind not in Kind.values:
        raise DataError(f"{kind!r} is not one of {', '.join(Kind.values)}", field="kind")
    if kind in FRACTION_KINDS:
        threshold = validate_fraction(threshold, field="threshold")
    elif isinstance(threshold, bool) or not isinstance(threshold, (int, float)) or not math.isfinite(threshold):
        raise DataError("must be a finite number", field="threshold")
    elif threshold < 0:
        raise DataError("must not be negative", field="threshold")
    for name, value in (("consecutive", consecutive), ("window_s", window_s), ("min_count", min_count)):
        if int(value) < 1:
            raise DataError("must be at least 1", field=name)
    if webhook_url:
        validate_webhook_url(webhook_url)
    return AlertRule.objects.create(
        model=model,
        kind=kind,
        threshold=float(threshold),
        consecutive=consecutive,
        window_s=window_s,
        min_count=min_count,
        cooldown_s=cooldown_s,
        emails=list(emails or []),
        webhook_url=webhook_url,
        webhook_secret=webhook_secret,
    )


@transaction.atomic
def alert_rules_setup_defaults(
    *,
    threshold_accuracy: float = 0.7,
    drift_threshold: float = 0.3,
    drift_windows: int = 3,
    latency_p99_ms: float = 1000.0,
    emails: list[str] | None = None,
    webhook_url: str = "",
    webhook_secret: str = "",
) -> list[AlertRule]:
    """One rule of every kind for every model with an active version; existing rules of a kind
    are updated, not duplicated. Also makes sure the evaluation schedule exists."""
    threshold_accuracy = validate_fraction(threshold_accuracy, field="threshold_accuracy")
    drift_threshold = validate_fraction(drift_threshold, field="drift_threshold")
    if webhook_url:
        validate_webhook_url(webhook_url)
    rules = []
    for model in RegisteredModel.objects.filter(versions__is_active=True).distinct():
        active = model.active_version()
        defaults = {
            Kind.ACCURACY_BELOW: {"threshold": threshold_accuracy},
            Kind.DRIFT_ABOVE: {"threshold": drift_threshold, "consecutive": drift_windows},
            Kind.LATENCY_P99_ABOVE: {"threshold": latency_p99_ms, "window_s": 3600},
            Kind.TRAINING_FAILED: {"threshold": 0.0},
            Kind.NAN_LOSS: {"threshold": 0.0},
            # Relative improvement of the best validation loss over the last `consecutive` epochs.
            Kind.LOSS_PLATEAU: {"threshold": 0.001, "consecutive": 5, "window_s": 3600},
        }
        if active.task != "regression":
            defaults[Kind.ESTIMATED_ACCURACY_BELOW] = {"threshold": threshold_accuracy}
        for kind, values in defaults.items():
            rule, _ = AlertRule.objects.update_or_create(
                model=model,
                kind=kind,
                defaults={
                    **values,
                    "emails": list(emails or []),
                    "webhook_url": webhook_url,
                    "webhook_secret": webhook_secret,
                },
            )
            rules.append(rule)
    evaluation_schedule_ensure()
    return rules


# --- evaluation -----------------------------------------------------------------------------


@dataclass
class Finding:
    key: str
    value: float | None
    message: str


@dataclass
class Verdict:
    """``judged`` False means not enough data: open alerts stay as they are."""

    judged: bool
    findings: list[Finding]


def _accuracy(rule: AlertRule, now, *, estimated: bool) -> Verdict:
    version = rule.model.active_version()
    if version is None or version.task == "regression":
        return Verdict(False, [])
    frame = prediction_frame(versions=[version.pk], start=now - timedelta(seconds=rule.window_s), end=now)
    if estimated:
        values = with_estimates(frame)["p_correct"].dropna().to_numpy()
        label = "estimated accuracy"
    else:
        values = frame.loc[frame["labelled"], "correct"].astype(float).to_numpy()
        label = "realised accuracy"
    if len(values) < rule.min_count:
        return Verdict(False, [])
    value = float(values.mean())
    if value >= rule.threshold:
        return Verdict(True, [])
    message = (
        f"{rule.model.name} {version.label}: {label} {value:.3f} < {rule.threshold:.3f} over {len(values)} predictions"
    )
    return Verdict(True, [Finding("", value, message)])


def _drift(rule: AlertRule, now) -> Verdict:
    version = rule.model.active_version()
    if version is None or not hasattr(version, "profile"):
        return Verdict(False, [])
    window = timedelta(seconds=rule.window_s)
    last = DriftReport.objects.filter(model_version=version).order_by("-window_end").first()
    if last is None or last.window_end <= now - window:  # tumbling windows: one report per window
        drift_check(version=version, window=window, now=now)
    reports = list(
        DriftReport.objects.filter(model_version=version, rows__gt=0).order_by("-window_end")[: rule.consecutive]
    )
    if len(reports) < rule.consecutive:
        return Verdict(False, [])
    scores = [r.drift_score for r in reports]
    if min(scores) <= rule.threshold:
        return Verdict(True, [])
    message = (
        f"{rule.model.name} {version.label}: drift score above {rule.threshold:.2f} for {rule.consecutive} "
        f"window(s) in a row (latest {scores[0]:.2f})"
    )
    return Verdict(True, [Finding("", scores[0], message)])


def _latency(rule: AlertRule, now) -> Verdict:
    version = rule.model.active_version()
    if version is None:
        return Verdict(False, [])
    values = np.array(
        PredictionLog.objects.filter(model_version=version, created_at__gte=now - timedelta(seconds=rule.window_s))
        .exclude(latency_ms__isnull=True)
        .values_list("latency_ms", flat=True),
        dtype=float,
    )
    if len(values) < rule.min_count:
        return Verdict(False, [])
    p99 = float(np.percentile(values, 99))
    if p99 <= rule.threshold:
        return Verdict(True, [])
    return Verdict(
        True, [Finding("", p99, f"{rule.model.name}: prediction latency p99 {p99:.1f} ms > {rule.threshold:.0f} ms")]
    )


def _robustness(rule: AlertRule) -> Verdict:
    """The active version's stored robustness score (`neural robustness`); not judged without one."""
    version = rule.model.active_version()
    score = (version.robustness or {}).get("score") if version else None
    if score is None:
        return Verdict(False, [])
    if score >= rule.threshold:
        return Verdict(True, [])
    message = f"{rule.model.name}:{version.label}: robustness score {score:.3f} < {rule.threshold:.3f}"
    return Verdict(True, [Finding(version.label, score, message)])


def _training(rule: AlertRule, now) -> Verdict:
    sessions = TrainingSession.objects.filter(model_name=rule.model.name)
    since = now - timedelta(seconds=rule.window_s)
    findings = []
    if rule.kind == Kind.TRAINING_FAILED:
        for s in sessions.filter(status=TrainingSession.Status.FAILED, finished_at__gte=since):
            findings.append(
                Finding(f"session:{s.pk}", None, f"{rule.model.name}: training session {s.pk} failed: {s.error}")
            )
    elif rule.kind == Kind.NAN_LOSS:
        for s in sessions.filter(
            status=TrainingSession.Status.FAILED, finished_at__gte=since, error__icontains="non-finite"
        ):
            findings.append(Finding(f"session:{s.pk}", None, f"{rule.model.name}: session {s.pk}: {s.error}"))
    else:
        for s in sessions.filter(status=TrainingSession.Status.RUNNING):
            losses = np.array(list(s.epoch_metrics.order_by("epoch").values_list("val_loss", flat=True)), dtype=float)
            n = rule.consecutive
            if len(losses) <= n:
                continue
            before, recent = losses[:-n].min(), losses[-n:].min()
            improvement = (before - recent) / max(abs(before), 1e-12)
            if improvement < rule.threshold:
                findings.append(
                    Finding(
                        f"session:{s.pk}",
                        float(improvement),
                        f"{rule.model.name}: session {s.pk} validation loss improved {improvement:.2%} "
                        f"over the last {n} epochs",
                    )
                )
    return Verdict(True, findings)


def rule_evaluate(*, rule: AlertRule, now=None) -> Verdict:
    now = now or timezone.now()
    if rule.kind in (Kind.ACCURACY_BELOW, Kind.ESTIMATED_ACCURACY_BELOW):
        return _accuracy(rule, now, estimated=rule.kind == Kind.ESTIMATED_ACCURACY_BELOW)
    if rule.kind == Kind.DRIFT_ABOVE:
        return _drift(rule, now)
    if rule.kind == Kind.LATENCY_P99_ABOVE:
        return _latency(rule, now)
    if rule.kind == Kind.ROBUSTNESS_BELOW:
        return _robustness(rule)
    return _training(rule, now)


def alerts_evaluate(*, model=None, now=None) -> list[Alert]:
    """Evaluate every enabled rule (of ``model`` when given); returns the alerts that fired now."""
    now = now or timezone.now()
    rules = AlertRule.objects.filter(enabled=True).select_related("model")
    if model is not None:
        rules = rules.filter(model=model)
    fired = []
    for rule in rules:
        verdict = rule_evaluate(rule=rule, now=now)
        if not verdict.judged:
            continue
        for finding in verdict.findings:
            alert = alert_fire(rule=rule, finding=finding, now=now)
            if alert is not None:
                fired.append(alert)
        keys = {f.key for f in verdict.findings}
        for alert in rule.alerts.exclude(status=Alert.Status.RESOLVED).exclude(dedup_key__in=keys):
            alert_resolve(alert=alert, now=now)
    return fired


# --- lifecycle ------------------------------------------------------------------------------


def alert_payload(alert: Alert) -> AlertEvent:
    return AlertEvent(
        id=alert.pk,
        model=alert.model.name,
        rule=alert.rule.kind,
        status=alert.status,
        value=alert.value,
        message=alert.message,
        fired_at=alert.fired_at.isoformat() if alert.fired_at else None,
        acknowledged_at=alert.acknowledged_at.isoformat() if alert.acknowledged_at else None,
        resolved_at=alert.resolved_at.isoformat() if alert.resolved_at else None,
    )


def alert_fire(*, rule: AlertRule, finding: Finding, now=None) -> Alert | None:
    """A new firing alert, or None when one is already open (dedup) or the rule cools down."""
    now = now or timezone.now()
    open_alerts = rule.alerts.filter(dedup_key=finding.key).exclude(status=Alert.Status.RESOLVED)
    if open_alerts.update(last_seen_at=now, value=finding.value, occurrences=F("occurrences") + 1):
        return None
    cooled = now - timedelta(seconds=rule.cooldown_s)
    if rule.alerts.filter(dedup_key=finding.key, resolved_at__gt=cooled).exists():
        return None
    try:
        with transaction.atomic():
            alert = Alert.objects.create(
                rule=rule, model=rule.model, dedup_key=finding.key, value=finding.value, message=finding.message
            )
    except IntegrityError:
        return None  # another evaluator opened the same alert a moment ago
    transaction.on_commit(lambda: _after_fire(alert))
    return alert


def _after_fire(alert: Alert) -> None:
    # By name: the tasks module imports this one.
    current_app.signature("neural.monitoring.tasks.alert_deliver_task", args=(alert.pk,)).delay()
    if alert.rule.kind == Kind.DRIFT_ABOVE and RetrainPolicy.objects.filter(model=alert.model, on_drift=True).exists():
        retrain = (alert.model_id, f"drift alert {alert.pk}")
        current_app.signature("neural.monitoring.tasks.retrain_task", args=retrain, queue="training").delay()


def alert_acknowledge(*, alert: Alert, user=None) -> Alert:
    updated = Alert.objects.filter(pk=alert.pk, status=Alert.Status.FIRING).update(
        status=Alert.Status.ACKNOWLEDGED,
        acknowledged_at=timezone.now(),
        acknowledged_by=user if getattr(user, "is_authenticated", False) else None,
    )
    alert.refresh_from_db()
    if not updated:
        raise Conflict(f"alert {alert.pk} is {alert.status}, not firing", field="status")
    broadcast(DASHBOARD_GROUP, "monitoring.alert", alert_payload(alert))
    return alert


def alert_resolve(*, alert: Alert, now=None) -> Alert:
    updated = (
        Alert.objects.filter(pk=alert.pk)
        .exclude(status=Alert.Status.RESOLVED)
        .update(status=Alert.Status.RESOLVED, resolved_at=now or timezone.now())
    )
    alert.refresh_from_db()
    if updated:
        broadcast(DASHBOARD_GROUP, "monitoring.alert", alert_payload(alert))
    return alert


def alert_claim(*, alert_id: int, worker: str | None = None) -> bool:
    """True for exactly one caller per alert, however many workers race for it."""
    return bool(
        Alert.objects.filter(pk=alert_id, delivery_claimed_at=None).update(
            delivery_claimed_at=timezone.now(), delivery_claimed_by=worker or socket.gethostname()
        )
    )
