from __future__ import annotations

from rest_framework import serializers

from neural.datasets.models import Dataset, Pattern


class DatasetUploadSerializer(serializers.Serializer):
    name = serializers.CharField(max_length=100)
    file = serializers.FileField()
    target = serializers.CharField(max_length=200)
    pattern = serializers.ChoiceField(choices=Pattern.choices, default=Pattern.PREDICTION)


class DatasetSerializer(serializers.ModelSerializer):
    columns = serializers.SerializerMethodField()

    class Meta:
        model = Dataset
        fields = [
            "id",
            "name",
            "version",
            "parent",
            "pattern",
            "target",
            "task",
            "rows",
            "columns",
            "schema",
            "sha256",
            "size_bytes",
            "source_format",
            "created_at",
        ]

    def get_columns(self, obj: Dataset) -> list[str]:
        return obj.columns
