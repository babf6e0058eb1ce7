"""Stored data sets: immutable Parquet files with their schema and lineage."""

from __future__ import annotations

from django.conf import settings
from django.db import models


class Pattern(models.TextChoices):
    COORDINATION = "coordination"
    OPTIMIZATION = "optimization"
    PREDICTION = "prediction"
    SECURITY = "security"


# The seed's pass/fail accuracy targets per pattern, measured on held-out data.
PATTERN_TARGETS = {
    Pattern.COORDINATION: 0.70,
    Pattern.OPTIMIZATION: 0.75,
    Pattern.PREDICTION: 0.73,
    Pattern.SECURITY: 0.85,
}


class Task(models.TextChoices):
    BINARY = "binary"
    MULTICLASS = "multiclass"
    REGRESSION = "regression"


class Dataset(models.Model):
    name = models.CharField(max_length=100)
    version = models.PositiveIntegerField(default=1)
    parent = models.ForeignKey("self", null=True, blank=True, on_delete=models.SET_NULL, related_name="children")
    pattern = models.CharField(max_length=20, choices=Pattern.choices, default=Pattern.PREDICTION)
    target = models.CharField(max_length=200)
    task = models.CharField(max_length=20, choices=Task.choices)
    rows = models.PositiveIntegerField()
    schema = models.JSONField(help_text="list of {name, kind, excluded, reason}")
    file = models.CharField(max_length=500, help_text="Parquet file, relative to DATASET_STORAGE_PATH")
    sha256 = models.CharField(max_length=64)
    size_bytes = models.PositiveBigIntegerField()
    source_format = models.CharField(max_length=40, default="csv")
    quality = models.JSONField(null=True, blank=True, help_text="the quality report of this version")
    # Per-column overrides ({name: {kind?, excluded?}}) applied on top of inference; kept so a
    # re-inference (prepare, augment) keeps what the user said.
    column_overrides = models.JSONField(default=dict, blank=True)
    operation = models.JSONField(
        default=dict, blank=True, help_text="how this version was made from its parent: {op, params, summary}"
    )
    split = models.JSONField(
        null=True, blank=True, help_text="a stored split: {column, validation_ratio, stratify, time_column, rows}"
    )
    owner = models.ForeignKey(settings.AUTH_USER_MODEL, null=True, blank=True, on_delete=models.SET_NULL)
    created_at = models.DateTimeField(auto_now_add=True)

    class Meta:
        ordering = ["name", "-version"]
        constraints = [models.UniqueConstraint(fields=["name", "version"], name="dataset_name_version_unique")]

    def __str__(self) -> str:
        return self.label

    @property
    def label(self) -> str:
        return f"{self.name}:v{self.version}"

    @property
    def columns(self) -> list[str]:
        return [c["name"] for c in self.schema]
