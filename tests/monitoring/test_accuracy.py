"""Accuracy per bucket and version, realised (from labels) beside estimated (from confidence)."""

from __future__ import annotations

import io
import json

import numpy as np
from django.core.management import call_command

from tests.monitoring.conftest import serve


def test_accuracy_json_has_the_documented_shape_and_counts(api, version, fresh_rows):
    results = serve(version, fresh_rows.head(120))
    truth = fresh_rows["success"].head(80).tolist()
    items = [{"prediction_id": r["prediction_id"], "actual": bool(t)} for r, t in zip(results, truth, strict=False)]
    assert api.post("/api/v1/neural/feedback/bulk", {"items": items}, format="json").status_code == 201
    out = io.StringIO()
    call_command(
        "neural", "accuracy", "--model", "coord-model", "--timeframe", "30d", "--bucket", "1d", "--json", stdout=out
    )
    doc = json.loads(out.getvalue())
    assert set(doc) == {"model", "buckets"} and doc["model"] == "coord-model"
    (bucket,) = doc["buckets"]  # everything was predicted just now: the last bucket
    assert set(bucket) == {"start", "end", "version", "count", "accuracy", "estimated_accuracy"}
    assert bucket["version"] == version.label and bucket["count"] == 80
    expected = np.mean([r["prediction"] == t for r, t in zip(results, truth, strict=False)])
    assert bucket["accuracy"] == round(float(expected), 6)
    assert 0.0 < bucket["estimated_accuracy"] < 1.0
    api_doc = api.get("/api/v1/neural/accuracy", {"model": "coord-model", "timeframe": "30d"}).json()
    assert api_doc == doc


def test_bad_durations_are_400s(api, version):
    res = api.get("/api/v1/neural/accuracy", {"model": "coord-model", "timeframe": "soon"})
    assert res.status_code == 400 and "timeframe" in res.json()["fields"]
