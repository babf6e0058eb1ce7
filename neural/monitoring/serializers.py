from __future__ import annotations

from rest_framework import serializers

from neural.monitoring.models import Alert, AlertRule, DeliveryAttempt, RetrainRun

INT_MAX = 2**31 - 1


class FeedbackSerializer(serializers.Serializer):
    prediction_id = serializers.CharField(help_text="the prediction_id a prediction returned")
    actual = serializers.JSONField(help_text="the true class label, or the true value for a regression")


class FeedbackBulkSerializer(serializers.Serializer):
    items = serializers.ListField(child=serializers.JSONField(), allow_empty=False)


class AlertRuleSerializer(serializers.ModelSerializer):
    model = serializers.CharField(source="model.name", help_text="registered model name")

    class Meta:
        model = AlertRule
        fields = [
            "id",
            "model",
            "kind",
            "threshold",
            "consecutive",
            "window_s",
            "min_count",
            "cooldown_s",
            "emails",
            "webhook_url",
            "enabled",
            "created_at",
        ]


class AlertRuleCreateSerializer(serializers.Serializer):
    model = serializers.CharField(max_length=100)
    kind = serializers.ChoiceField(choices=AlertRule.Kind.choices)
    threshold = serializers.FloatField(required=False, default=0.0)
    # (at most what the columns, PostgreSQL integers, hold)
    consecutive = serializers.IntegerField(required=False, default=1, min_value=1, max_value=INT_MAX)
    window_s = serializers.IntegerField(required=False, default=86400, min_value=1, max_value=INT_MAX)
    min_count = serializers.IntegerField(required=False, default=20, min_value=1, max_value=INT_MAX)
    cooldown_s = serializers.IntegerField(required=False, default=3600, min_value=0, max_value=INT_MAX)
    emails = serializers.ListField(child=serializers.EmailField(), required=False, default=list)
    # A CharField, not URLField: the service gives the one clear "not an http(s) URL" message.
    webhook_url = serializers.CharField(required=False, allow_blank=True, default="", max_length=500)
    webhook_secret = serializers.CharField(required=False, allow_blank=True, default="", max_length=200)


class DeliveryAttemptSerializer(serializers.ModelSerializer):
    class Meta:
        model = DeliveryAttempt
        fields = ["channel", "target", "attempt", "ok", "status_code", "error", "duration_ms", "worker", "created_at"]


class AlertSerializer(serializers.ModelSerializer):
    model = serializers.CharField(source="model.name")
    rule = serializers.CharField(source="rule.kind")
    deliveries = DeliveryAttemptSerializer(many=True, read_only=True)

    class Meta:
        model = Alert
        fields = [
            "id",
            "model",
            "rule",
            "status",
            "value",
            "message",
            "occurrences",
            "fired_at",
            "last_seen_at",
            "acknowledged_at",
            "resolved_at",
            "deliveries",
        ]


class RetrainRunSerializer(serializers.ModelSerializer):
    model = serializers.CharField(source="model.name")
    baseline = serializers.StringRelatedField(allow_null=True)
    candidate = serializers.StringRelatedField(allow_null=True)
    dataset = serializers.StringRelatedField(allow_null=True)

    class Meta:
        model = RetrainRun
        fields = [
            "id",
            "model",
            "reason",
            "dataset",
            "session",
            "baseline",
            "candidate",
            "metric",
            "baseline_value",
            "candidate_value",
            "holdout_rows",
            "rule",
            "decision",
            "error",
            "created_at",
            "finished_at",
        ]
