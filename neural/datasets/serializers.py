from __future__ import annotations

from django.core.validators import RegexValidator
from rest_framework import serializers

from neural.datasets.importers import REGISTRY
from neural.datasets.models import Dataset, Pattern
from neural.engine.names import NAME_RE, NAME_RULE

name_validator = RegexValidator(NAME_RE, f"must be {NAME_RULE}")


class DatasetUploadSerializer(serializers.Serializer):
    name = serializers.CharField(max_length=100, validators=[name_validator])
    file = serializers.FileField()
    target = serializers.CharField(max_length=200, required=False, allow_blank=True)
    pattern = serializers.ChoiceField(choices=Pattern.choices, default=Pattern.PREDICTION)
    format = serializers.ChoiceField(choices=sorted(REGISTRY), required=False, help_text="default: detected")


class ColumnOverrideSerializer(serializers.Serializer):
    kind = serializers.CharField(required=False)
    excluded = serializers.BooleanField(required=False)


class DatasetSchemaPatchSerializer(serializers.Serializer):
    schema = serializers.DictField(
        child=ColumnOverrideSerializer(), help_text="{column: {kind?, excluded?}}", allow_empty=False
    )


class DatasetSerializer(serializers.ModelSerializer):
    columns = serializers.SerializerMethodField()
    parent_label = serializers.SerializerMethodField()

    class Meta:
        model = Dataset
        fields = [
            "id",
            "name",
            "version",
            "parent",
            "parent_label",
            "pattern",
            "target",
            "task",
            "rows",
            "columns",
            "schema",
            "column_overrides",
            "sha256",
            "size_bytes",
            "source_format",
            "operation",
            "split",
            "created_at",
        ]

    def get_columns(self, obj: Dataset) -> list[str]:
        return obj.columns

    def get_parent_label(self, obj: Dataset) -> str | None:
        return obj.parent.label if obj.parent_id else None
