from __future__ import annotations

from rest_framework import serializers

from neural.registry.ensembles import ensemble_report
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
            "kind",
            "members",
            "ensemble",
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
    members = serializers.SerializerMethodField(help_text="an ensemble's pinned member versions, in order")

    ensemble = serializers.SerializerMethodField(
        help_text="an ensemble's method, weights and each member's test metrics beside its own (null: a network)"
    )

    def get_ensemble(self, obj: ModelVersion) -> dict | None:
        return ensemble_report(version=obj)

    def get_members(self, obj: ModelVersion) -> list[str]:
        if obj.kind != ModelVersion.Kind.ENSEMBLE:
            return []
        return [str(link.member) for link in obj.member_links.select_related("member__model").order_by("position")]

    def get_parent_version(self, obj: ModelVersion) -> str | None:
        return f"v{obj.parent.version}" if obj.parent_id else None


class VersionMetricsSerializer(serializers.Serializer):
    version = serializers.CharField(help_text="v1, v2, ...")
    active = serializers.BooleanField()
    kind = serializers.CharField(help_text="network or ensemble")
    metrics = serializers.DictField(help_text="validation metrics")
    test_metrics = serializers.DictField(help_text="held-out test metrics")
    ensemble = serializers.DictField(
        allow_null=True, help_text="an ensemble's method, weights and each member's test metrics beside its own"
    )
    per_class = serializers.DictField(
        allow_null=True,
        help_text="held-out test figures per class (precision, recall, false_positive_rate, f1, support) and a "
        "binary classifier's threshold; null for a regression",
    )


class EnsembleCreateSerializer(serializers.Serializer):
    """POST ensembles: the request body (the service checks the members, method and weights)."""

    models = serializers.ListField(
        child=serializers.CharField(), help_text="member models: name (its active version) or name:vN"
    )
    method = serializers.CharField(help_text="voting, weighted or stacking")
    weights = serializers.JSONField(required=False, help_text='"auto" or one number per member (method weighted)')
    name = serializers.CharField(required=False, help_text="the ensemble's model name (default: <first>-ensemble)")


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
