"""Monitoring: the ground truth of logged predictions (``serving.PredictionLog``), reference
profiles, drift windows, alert rules and alerts (with each delivery attempt), and retraining
policies and runs."""

from __future__ import annotations

from django.conf import settings
from django.db import models
from django.db.models import Q


class Feedback(models.Model):
    """The ground truth for one prediction; a later label for the same prediction replaces it."""

    prediction = models.OneToOneField("serving.PredictionLog", on_delete=models.CASCADE, related_name="feedback")
    actual = models.JSONField()
    correct = models.BooleanField(null=True, help_text="classifiers: the prediction matched")
    abs_error = models.FloatField(null=True, help_text="regression: |prediction - actual|")
    user = models.ForeignKey(settings.AUTH_USER_MODEL, null=True, blank=True, on_delete=models.SET_NULL)
    received_at = models.DateTimeField(auto_now=True, db_index=True)


class ReferenceProfile(models.Model):
    """Written when a version is registered: the training split's per-feature profile (drift)
    and the validation split's confidence calibration (estimated accuracy)."""

    model_version = models.OneToOneField("registry.ModelVersion", on_delete=models.CASCADE, related_name="profile")
    profile = models.JSONField(help_text="neural.engine.drift.build_profile output")
    calibration = models.JSONField(default=dict, blank=True, help_text="neural.engine.calibration output")
    created_at = models.DateTimeField(auto_now_add=True)


class DriftReport(models.Model):
    """One window of recent inputs compared with the reference profile."""

    model_version = models.ForeignKey("registry.ModelVersion", on_delete=models.CASCADE, related_name="drift_reports")
    window_start = models.DateTimeField()
    window_end = models.DateTimeField(db_index=True)
    rows = models.PositiveIntegerField()
    alpha = models.FloatField()
    drift_score = models.FloatField()
    drifted = models.BooleanField()
    features = models.JSONField(help_text="[{name, method, value, threshold, drifted}]")
    created_at = models.DateTimeField(auto_now_add=True)

    class Meta:
        ordering = ["-window_end"]


class AlertRule(models.Model):
    class Kind(models.TextChoices):
        ACCURACY_BELOW = "accuracy_below", "realised accuracy below threshold"
        ESTIMATED_ACCURACY_BELOW = "estimated_accuracy_below", "estimated accuracy below threshold"
        DRIFT_ABOVE = "drift_above", "drift score above threshold for N consecutive windows"
        LATENCY_P99_ABOVE = "latency_p99_above", "prediction latency p99 above threshold (ms)"
        TRAINING_FAILED = "training_failed", "a training of the model failed"
        NAN_LOSS = "nan_loss", "a training of the model hit a non-finite loss"
        LOSS_PLATEAU = "loss_plateau", "a running training's validation loss stopped improving"
        ROBUSTNESS_BELOW = "robustness_below", "robustness score below threshold (also gates `neural deploy`)"

    model = models.ForeignKey("registry.RegisteredModel", on_delete=models.CASCADE, related_name="alert_rules")
    kind = models.CharField(max_length=30, choices=Kind.choices)
    threshold = models.FloatField(default=0.0)
    consecutive = models.PositiveIntegerField(default=1, help_text="windows in a row (drift rules)")
    window_s = models.PositiveIntegerField(default=86400, help_text="how far back each evaluation looks")
    min_count = models.PositiveIntegerField(default=20, help_text="fewest labels/predictions to judge on")
    cooldown_s = models.PositiveIntegerField(default=3600, help_text="quiet time after an alert resolves")
    emails = models.JSONField(default=list, blank=True)
    webhook_url = models.URLField(blank=True, max_length=500)
    webhook_secret = models.CharField(max_length=200, blank=True, help_text="HMAC-SHA256 key for the signature")
    enabled = models.BooleanField(default=True)
    created_at = models.DateTimeField(auto_now_add=True)

    class Meta:
        ordering = ["model", "kind"]

    def __str__(self) -> str:
        return f"{self.model.name}: {self.kind} {self.threshold}"


class Alert(models.Model):
    class Status(models.TextChoices):
        FIRING = "firing"
        ACKNOWLEDGED = "acknowledged"
        RESOLVED = "resolved"

    rule = models.ForeignKey(AlertRule, on_delete=models.CASCADE, related_name="alerts")
    model = models.ForeignKey("registry.RegisteredModel", on_delete=models.CASCADE, related_name="alerts")
    dedup_key = models.CharField(max_length=200, default="", blank=True)
    status = models.CharField(max_length=14, choices=Status.choices, default=Status.FIRING, db_index=True)
    value = models.FloatField(null=True)
    message = models.TextField()
    occurrences = models.PositiveIntegerField(default=1, help_text="evaluations that saw it breached")
    fired_at = models.DateTimeField(auto_now_add=True)
    last_seen_at = models.DateTimeField(auto_now_add=True)
    acknowledged_at = models.DateTimeField(null=True, blank=True)
    acknowledged_by = models.ForeignKey(settings.AUTH_USER_MODEL, null=True, blank=True, on_delete=models.SET_NULL)
    resolved_at = models.DateTimeField(null=True, blank=True)
    # Set by the one worker that claims the delivery: filter(delivery_claimed_at=None).update(...)
    delivery_claimed_at = models.DateTimeField(null=True, blank=True)
    delivery_claimed_by = models.CharField(max_length=200, blank=True)

    class Meta:
        ordering = ["-fired_at"]
        constraints = [
            # Dedup: one open (firing or acknowledged) alert per rule and key, enforced by the database.
            models.UniqueConstraint(
                fields=["rule", "dedup_key"], condition=~Q(status="resolved"), name="one_open_alert_per_rule_key"
            )
        ]

    def __str__(self) -> str:
        return f"alert {self.pk} ({self.status}): {self.message}"


class DeliveryAttempt(models.Model):
    class Channel(models.TextChoices):
        DASHBOARD = "dashboard"
        EMAIL = "email"
        WEBHOOK = "webhook"

    alert = models.ForeignKey(Alert, on_delete=models.CASCADE, related_name="deliveries")
    channel = models.CharField(max_length=10, choices=Channel.choices)
    target = models.CharField(max_length=500, blank=True)
    attempt = models.PositiveIntegerField(default=1)
    ok = models.BooleanField()
    status_code = models.PositiveIntegerField(null=True, blank=True)
    error = models.TextField(blank=True)
    duration_ms = models.FloatField(default=0.0)
    worker = models.CharField(max_length=200, blank=True)
    created_at = models.DateTimeField(auto_now_add=True)

    class Meta:
        ordering = ["alert", "created_at"]


class RetrainPolicy(models.Model):
    model = models.OneToOneField("registry.RegisteredModel", on_delete=models.CASCADE, related_name="retrain_policy")
    schedule = models.CharField(
        max_length=100,
        blank=True,
        default="",
        help_text="'', daily, weekly, monthly or a cron expression (see monitoring/schedules.py)",
    )
    on_drift = models.BooleanField(default=False, help_text="retrain when a drift alert fires")
    tolerance = models.FloatField(default=0.0, help_text="promote when candidate >= active - tolerance")
    rollout_weight = models.PositiveSmallIntegerField(
        default=0, help_text="0: promote a passing candidate outright; 1-99: start an A/B rollout at this percent"
    )
    created_at = models.DateTimeField(auto_now_add=True)


class RetrainRun(models.Model):
    class Decision(models.TextChoices):
        PENDING = "pending"
        PROMOTED = "promoted"
        ROLLOUT = "rollout", "rolled out as an A/B candidate"
        KEPT = "kept", "kept the active version"
        FAILED = "failed"

    model = models.ForeignKey("registry.RegisteredModel", on_delete=models.CASCADE, related_name="retrain_runs")
    reason = models.CharField(max_length=40, help_text="schedule, drift alert N, manual")
    dataset = models.ForeignKey("datasets.Dataset", null=True, on_delete=models.SET_NULL, related_name="+")
    session = models.ForeignKey("training.TrainingSession", null=True, on_delete=models.SET_NULL, related_name="+")
    baseline = models.ForeignKey("registry.ModelVersion", null=True, on_delete=models.SET_NULL, related_name="+")
    candidate = models.ForeignKey("registry.ModelVersion", null=True, on_delete=models.SET_NULL, related_name="+")
    metric = models.CharField(max_length=20, blank=True)
    baseline_value = models.FloatField(null=True)
    candidate_value = models.FloatField(null=True)
    holdout_rows = models.PositiveIntegerField(default=0)
    rule = models.TextField(blank=True)
    decision = models.CharField(max_length=10, choices=Decision.choices, default=Decision.PENDING)
    error = models.TextField(blank=True)
    created_at = models.DateTimeField(auto_now_add=True)
    finished_at = models.DateTimeField(null=True, blank=True)

    class Meta:
        ordering = ["-created_at"]
