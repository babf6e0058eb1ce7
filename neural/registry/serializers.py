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
            "session",
            "created_at",
        ]


class ActivationEventSerializer(serializers.ModelSerializer):
    user = serializers.StringRelatedField()

    class Meta:
        model = ActivationEvent
        fields = ["action", "from_version", "to_version", "user", "created_at"]


class RegisteredModelSerializer(serializers.ModelSerializer):
    active_version = serializers.SerializerMethodField()
    versions = ModelVersionSerializer(many=True, read_only=True)

    class Meta:
        model = RegisteredModel
        fields = ["name", "pattern", "description", "active_version", "versions", "created_at"]

    def get_active_version(self, obj: RegisteredModel) -> str | None:
        active = next((v for v in obj.versions.all() if v.is_active), None)
        return active.label if active else None


class ActivateSerializer(serializers.Serializer):
    version = serializers.RegexField(r"^v?\d+$", help_text="v3 or 3")


class PredictSerializer(serializers.Serializer):
    model = serializers.CharField(max_length=120, help_text="name (active version) or name:vN")
    input = serializers.DictField()


class PredictBatchSerializer(serializers.Serializer):
    model = serializers.CharField(max_length=120)
    inputs = serializers.ListField(child=serializers.JSONField(), allow_empty=False)
