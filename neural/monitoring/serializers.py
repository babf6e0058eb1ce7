from __future__ import annotations

from urllib.parse import urlsplit

from rest_framework import serializers

from neural.api.permissions import is_viewer
from neural.monitoring.models import Alert, AlertRule, DeliveryAttempt, RetrainPolicy, RetrainRun
from photondrift.outbound import without_credentials


def mask_email(address: str) -> str:
    """``o***@example.com``: enough to tell addresses apart, not enough to write to them."""
    local, at, domain = address.partition("@")
    return f"{local[:1]}***{at}{domain}" if at else "***"


def mask_password(url: str) -> str:
    """The URL with a password in its userinfo replaced by ``***`` (an operator's view)."""
    try:
        parts = urlsplit(url)
    except ValueError:
        return ""
    if parts.password is None:
        return url
    userinfo, _, host = parts.netloc.rpartition("@")
    return parts._replace(netloc=f"{userinfo.partition(':')[0]}:***@{host}").geturl()


def _viewer(serializer: serializers.Serializer) -> bool:
    request = serializer.context.get("request")
    return request is None or is_viewer(request.user)


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

    def to_representation(self, instance):
        """Viewers see masked addresses and no webhook URL; a URL's password and the webhook
        secret are returned to nobody. Without a request in the context, the viewer's view."""
        data = super().to_representation(instance)
        if _viewer(self):
            data["emails"] = [mask_email(e) for e in data["emails"]]
            data["webhook_url"] = "(set)" if data["webhook_url"] else ""
        else:
            data["webhook_url"] = mask_password(data["webhook_url"])
        return data


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

    def to_representation(self, instance):
        """A viewer sees whether each attempt worked, not where it went nor how it failed: status
        codes and error texts of webhook attempts would make a port scanner of the alert list."""
        data = super().to_representation(instance)
        if _viewer(self):
            if instance.channel == DeliveryAttempt.Channel.EMAIL:
                data["target"] = mask_email(data["target"])
            elif instance.channel == DeliveryAttempt.Channel.WEBHOOK:
                data["target"] = "webhook"
            data["status_code"], data["error"] = None, ""
        else:
            data["target"] = without_credentials(data["target"])
        return data


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


class RetrainPolicyRequestSerializer(serializers.Serializer):
    model = serializers.CharField(max_length=100)
    # Free text: the service judges it (daily, weekly, monthly or a cron expression) and names the field.
    schedule = serializers.CharField(required=False, allow_blank=True, default="", max_length=200)
    on_drift = serializers.BooleanField(required=False, default=False)
    tolerance = serializers.FloatField(required=False, default=0.0)
    rollout_weight = serializers.IntegerField(required=False, default=0)


class RetrainPolicySerializer(serializers.ModelSerializer):
    model = serializers.CharField(source="model.name")

    class Meta:
        model = RetrainPolicy
        fields = ["model", "schedule", "on_drift", "tolerance", "rollout_weight", "created_at"]
