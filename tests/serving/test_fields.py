"""The prediction log's JSON columns: ``json`` on PostgreSQL, and what is stored reads back."""

from __future__ import annotations

from datetime import timedelta

import pytest
from django.db import connection
from django.utils import timezone

from neural.monitoring.selectors import prediction_frame
from neural.monitoring.services import window_frame
from neural.serving.logwriter import LogBatch, new_ids, write_batches
from neural.serving.models import PredictionLog

INPUTS = [
    {"zeta": 1.5, "alpha": 'a\\b\t"c"', "when": "2026-01-01T00:47:17Z", "missing": None, "n": 3},
    {"zeta": -2e-07, "alpha": "zürich ☃", "when": None, "missing": None, "n": 12345678901234},
]
OUTPUTS = [
    {"prediction": True, "probabilities": {"False": 0.25, "True": 0.75}, "score": 0.75},
    {"prediction": False, "probabilities": {"False": 0.999999, "True": 1e-06}, "score": 1e-06},
]


def test_the_log_stores_its_inputs_and_outputs_as_json_on_postgresql(db):
    if connection.vendor != "postgresql":
        pytest.skip("the column type is PostgreSQL's")
    with connection.cursor() as cursor:
        cursor.execute(
            "SELECT column_name, data_type FROM information_schema.columns WHERE table_name = %s",
            [PredictionLog._meta.db_table],
        )
        types = dict(cursor.fetchall())
    assert types["inputs"] == "json" and types["output"] == "json"


def test_rows_from_copy_and_from_the_orm_read_back_equal_and_in_key_order(version):
    ids = new_ids(2)
    write_batches([LogBatch(version_id=version.pk, ids=ids, inputs=INPUTS, outputs=OUTPUTS)])
    PredictionLog.objects.create(model_version=version, inputs=INPUTS[0], output=OUTPUTS[0])
    rows = {str(row.id): row for row in PredictionLog.objects.filter(model_version=version)}
    assert len(rows) == 3
    assert [rows[i].inputs for i in ids] == INPUTS and [rows[i].output for i in ids] == OUTPUTS
    assert [list(rows[i].inputs) for i in ids] == [list(x) for x in INPUTS]  # json keeps the order written
    assert sorted(PredictionLog.objects.values_list("output__score", flat=True)) == [1e-06, 0.75, 0.75]


def test_monitoring_readers_see_the_logged_values(version):
    write_batches([LogBatch(version_id=version.pk, ids=new_ids(2), inputs=INPUTS, outputs=OUTPUTS)])
    now = timezone.now()
    frame = window_frame(version=version, start=now - timedelta(hours=1), end=now + timedelta(seconds=1))
    assert sorted(frame["zeta"]) == [-2e-07, 1.5] and set(frame["alpha"]) == {INPUTS[0]["alpha"], "zürich ☃"}
    predictions = prediction_frame(versions=[version], start=now - timedelta(hours=1), end=now + timedelta(seconds=1))
    assert sorted(predictions["confidence"]) == [0.75, 0.999999]
