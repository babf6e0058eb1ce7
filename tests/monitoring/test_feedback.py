"""Ground truth: POST feedback (single and bulk), `neural feedback --file`, and their bad input."""

from __future__ import annotations

import io
import json

import pytest
from django.core.management import CommandError, call_command

from neural.monitoring.models import Feedback
from tests.monitoring.conftest import serve


def test_it_records_a_label_and_judges_the_prediction(api, version, fresh_rows):
    result = serve(version, fresh_rows.head(1))[0]
    truth = bool(fresh_rows["success"].iloc[0])
    res = api.post(
        "/api/v1/neural/feedback", {"prediction_id": result["prediction_id"], "actual": truth}, format="json"
    )
    assert res.status_code == 201, res.json()
    assert res.json()["correct"] == (result["prediction"] == truth)
    assert Feedback.objects.get(prediction_id=result["prediction_id"]).actual == truth


def test_it_replaces_an_earlier_label_when_a_late_correction_arrives(api, version, fresh_rows):
    result = serve(version, fresh_rows.head(1))[0]
    pid = result["prediction_id"]
    api.post("/api/v1/neural/feedback", {"prediction_id": pid, "actual": result["prediction"]}, format="json")
    res = api.post("/api/v1/neural/feedback", {"prediction_id": pid, "actual": not result["prediction"]}, format="json")
    assert res.status_code == 201
    assert Feedback.objects.filter(prediction_id=pid).count() == 1
    assert Feedback.objects.get(prediction_id=pid).correct is False


def test_it_accepts_bulk_labels_all_or_nothing(api, version, fresh_rows):
    results = serve(version, fresh_rows.head(5))
    items = [
        {"prediction_id": r["prediction_id"], "actual": bool(a)}
        for r, a in zip(results, fresh_rows["success"], strict=False)
    ]
    bad = [*items, {"prediction_id": results[0]["prediction_id"], "actual": "maybe"}]
    res = api.post("/api/v1/neural/feedback/bulk", {"items": bad}, format="json")
    assert res.status_code == 400
    assert "items[5].actual" in res.json()["fields"]
    assert Feedback.objects.count() == 0  # nothing half-written
    res = api.post("/api/v1/neural/feedback/bulk", {"items": items}, format="json")
    assert res.status_code == 201 and res.json() == {"count": 5}


@pytest.mark.parametrize(
    ("body", "field"),
    [
        ({"prediction_id": "00000000-0000-0000-0000-000000000000", "actual": True}, "prediction_id"),
        ({"prediction_id": "not-a-uuid", "actual": True}, "prediction_id"),
        ({"actual": True}, "prediction_id"),
        (None, "actual"),  # filled in below with a real id and a label of the wrong class
        ("list", "actual"),
    ],
)
def test_it_refuses_bad_feedback_with_a_400_naming_the_field(api, version, fresh_rows, body, field):
    if body is None or body == "list":
        pid = serve(version, fresh_rows.head(1))[0]["prediction_id"]
        body = {"prediction_id": pid, "actual": "purple" if body is None else [1, 2]}
    res = api.post("/api/v1/neural/feedback", body, format="json")
    assert res.status_code == 400, res.json()
    assert field in res.json()["fields"]


def test_the_cli_reads_labels_from_a_csv_file(version, fresh_rows, tmp_path):
    results = serve(version, fresh_rows.head(4))
    path = tmp_path / "labels.csv"
    path.write_text(
        "prediction_id,actual\n"
        + "".join(f"{r['prediction_id']},{a}\n" for r, a in zip(results, fresh_rows["success"], strict=False))
    )
    out = io.StringIO()
    call_command("neural", "feedback", "--file", str(path), "--json", stdout=out)
    assert json.loads(out.getvalue())["count"] == 4
    assert Feedback.objects.count() == 4


def test_the_cli_names_the_bad_row(version, fresh_rows, tmp_path):
    path = tmp_path / "labels.csv"
    path.write_text("prediction_id,actual\n00000000-0000-0000-0000-000000000000,True\n")
    with pytest.raises(CommandError) as err:
        call_command("neural", "feedback", "--file", str(path))
    assert err.value.returncode == 2 and "rows[0].prediction_id" in str(err.value)
