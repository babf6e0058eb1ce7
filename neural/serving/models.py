"""Serving: the prediction log, one row per answered prediction."""

from __future__ import annotations

import uuid

from django.db import models

from neural.serving.fields import TextJSONField


class PredictionLog(models.Model):
    """One row per prediction, written in bulk by ``neural.serving.logwriter`` (ids are
    time-ordered UUIDs from ``new_ids``, so the primary key index grows at its right edge).

    ``model_version`` has no database constraint: PostgreSQL checked it once per row, about half
    of the cost of writing a 10,000-row batch. The writer checks the versions once per write
    instead (``SELECT ... FOR KEY SHARE``), deleting a version still deletes its rows (Django's
    cascade, plus a sweep for rows committed meanwhile: ``logwriter.version_deleted``).
    """

    id = models.UUIDField(primary_key=True, default=uuid.uuid4, editable=False)
    model_version = models.ForeignKey(
        "registry.ModelVersion",
        on_delete=models.CASCADE,
        related_name="predictions",
        db_constraint=False,
        db_index=False,  # the (model_version, created_at) index below serves every reader
    )
    # ``json``, not ``jsonb``, on PostgreSQL: cheaper to write, and nothing queries inside them.
    inputs = TextJSONField()
    output = TextJSONField()
    # No index of its own: every reader filters by version first, which the index below serves;
    # one more index was ~10% of a 10,000-row COPY. (The admin's list sorts the whole table then,
    # as its row count already scans it.)
    created_at = models.DateTimeField(auto_now_add=True)
    # Server time to validate and predict the request this row came from (every row of a
    # batch gets its request's time); read by the latency p99 alert rule.
    latency_ms = models.FloatField(null=True, blank=True)

    class Meta:
        ordering = ["-created_at"]
        indexes = [models.Index(fields=["model_version", "created_at"], name="predictionlog_version_time")]
        db_table = "monitoring_predictionlog"  # created by the monitoring app, which owned it first
