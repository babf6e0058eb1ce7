from __future__ import annotations

from rest_framework import serializers

from neural.registry.models import ActivationEvent, ModelVersion, RegisteredModel


class ModelVersionSerializer(serializers.ModelSerializer):
    version = serializers.CharField(source="label")
    active = serializers.BooleanField(source="is_active")
    dataset = serializers.StringRelatedField()

    class Meta:
        model = ModelVersion
        fields = [
            "version",
            "active",
            "metrics",
            "test_metrics",
            "task",
            "dataset",
            "split",
            "config",
            "n_parameters",
            "size_bytes",
            "sha256",
            "compression",
            "parent_version",
            "session",
            "created_at",
        ]

    parent_version = serializers.SerializerMethodField()

    def get_parent_version(self, obj: ModelVersion) -> str | None:
        return f"v{obj.parent.version}" if obj.parent_id else None


class VersionMetricsSerializer(serializers.Serializer):
    version = serializers.CharField(help_text="v1, v2, ...")
    active = serializers.BooleanField()
    metrics = serializers.DictField(help_text="validation metrics")
    test_metrics = serializers.DictField(help_text="held-out test metrics")
    per_class = serializers.DictField(
        allow_null=True,
        help_text="held-out test figures per class (precision, recall, false_positive_rate, f1, support) and a "
        "binary classifier's threshold; null for a regression",
    )


class ModelMetricsSerializer(serializers.Serializer):
    """What GET models/{name}/metrics answers (documents the response)."""

    model = serializers.CharField()
    versions = VersionMetricsSerializer(many=True)


class ActivationEventSerializer(serializers.ModelSerializer):
    user = serializers.StringRelatedField()

    class Meta:
        model = ActivationEvent
        fields = ["action", "from_version", "to_version", "detail", "user", "created_at"]


class RegisteredModelSerializer(serializers.ModelSerializer):
    active_version = serializers.SerializerMethodField()
    versions = ModelVersionSerializer(many=True, read_only=True)
    rollout = serializers.SerializerMethodField()

    class Meta:
        model = RegisteredModel
        fields = ["name", "pattern", "description", "active_version", "rollout", "versions", "created_at"]

    def get_active_version(self, obj: RegisteredModel) -> str | None:
        active = next((v for v in obj.versions.all() if v.is_active), None)
        return active.label if active else None

    def get_rollout(self, obj: RegisteredModel) -> dict | None:
        if not obj.candidate_id:
            return None
        candidate = next((v for v in obj.versions.all() if v.pk == obj.candidate_id), None)
        return {
            "candidate": candidate.label if candidate else None,
            "weight": obj.candidate_weight,
            "started_at": obj.rollout_started_at,
        }


class ActivateSerializer(serializers.Serializer):
    version = serializers.RegexField(
        r"^([A-Za-z0-9_.-]+:)?v?\d+$",
        help_text="v3, 3 or name:v3",
        error_messages={"invalid": "expected v3, 3 or name:v3"},
    )


class RolloutSerializer(ActivateSerializer):
    weight = serializers.IntegerField(min_value=1, max_value=99, help_text="percent of traffic for the candidate")
