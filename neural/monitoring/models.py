"""The prediction log: every answer the serving path gave, for accuracy tracking and drift."""

from __future__ import annotations

import uuid

from django.db import models


class PredictionLog(models.Model):
    id = models.UUIDField(primary_key=True, default=uuid.uuid4, editable=False)
    model_version = models.ForeignKey("registry.ModelVersion", on_delete=models.CASCADE, related_name="predictions")
    inputs = models.JSONField()
    output = models.JSONField()
    created_at = models.DateTimeField(auto_now_add=True, db_index=True)

    class Meta:
        ordering = ["-created_at"]
