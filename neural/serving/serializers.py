"""Request bodies of the serving endpoints (documentation; the hot path checks them by hand)."""

from __future__ import annotations

from rest_framework import serializers


class RecommendSerializer(serializers.Serializer):
    model = serializers.CharField(max_length=120, default="coordination", help_text="a coordination model")
    task = serializers.DictField(help_text="the task's feature values")
    candidates = serializers.ListField(child=serializers.DictField(), allow_empty=False, help_text="one per agent")
    caller = serializers.CharField(max_length=200, required=False)


class PredictSerializer(serializers.Serializer):
    model = serializers.CharField(max_length=120, help_text="name (active version) or name:vN")
    input = serializers.DictField()
    caller = serializers.CharField(
        max_length=200, required=False, help_text="sticky A/B key (or the X-Caller-Key header)"
    )


class PredictBatchSerializer(serializers.Serializer):
    """Documents the body; the view checks it by hand (10,000 rows through DRF fields is slow)."""

    model = serializers.CharField(max_length=120)
    inputs = serializers.ListField(child=serializers.DictField(), allow_empty=False)
    caller = serializers.CharField(max_length=200, required=False)
