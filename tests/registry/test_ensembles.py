"""Ensemble versions through the REST API and the CLI: create, predict and batch predict,
activate, metrics side by side, archive round trip, ONNX export, deletion protection, and every
bad request a 400 naming the field (exit 2), with nothing stored."""

from __future__ import annotations

import io
import json

import numpy as np
import onnxruntime as ort
import pandas as pd
import pytest
from django.core.management import call_command
from django.core.management.base import CommandError

from neural.monitoring.models import ReferenceProfile
from neural.registry.models import EnsembleMember, ModelVersion, RegisteredModel
from neural.registry.storage import storage_root, version_load
from tests.factories import COORDINATION_INPUT, make_dataset, train_here


def run(*args):
    out = io.StringIO()
    call_command(*args, "--json", stdout=out)
    return json.loads(out.getvalue())


@pytest.fixture
def members(dataset, user):
    """Three bagged members of one data set (same split, different rows and initialisation)."""
    for k, name in enumerate(("ma", "mb", "mc")):
        train_here(dataset=dataset, model_name=name, epochs=3, user=user, bagging_seed=k, hidden_sizes=[16])
    return ["ma", "mb", "mc"]


def _stored_versions() -> int:
    return ModelVersion.objects.count()


def test_it_creates_a_weighted_ensemble_that_predicts_in_one_pass(api, members):
    response = api.post(
        "/api/v1/neural/ensembles", {"models": members, "method": "weighted", "weights": "auto"}, format="json"
    )
    assert response.status_code == 201, response.json()
    body = response.json()
    assert body["model"] == "ma-ensemble" and body["kind"] == "ensemble" and body["active"]
    assert body["members"] == ["ma:v1", "mb:v1", "mc:v1"]
    weights = body["ensemble"]["weights"]
    assert len(weights) == 3 and abs(sum(weights) - 1) < 1e-5 and min(weights) >= 0
    # each member's test figures beside the ensemble's, on the same test rows
    assert [m["member"] for m in body["ensemble"]["members"]] == ["ma:v1", "mb:v1", "mc:v1"]
    assert {"accuracy", "macro_f1"} <= set(body["test_metrics"])
    assert all("accuracy" in m["test_metrics"] for m in body["ensemble"]["members"])
    version = ModelVersion.objects.get(model__name="ma-ensemble")
    assert ReferenceProfile.objects.filter(model_version=version).exclude(calibration={}).exists()

    one = api.post("/api/v1/neural/predict", {"model": "ma-ensemble", "input": COORDINATION_INPUT}, format="json")
    assert one.status_code == 200, one.json()
    predictor = version_load(version=version)
    expected = predictor.predict_records([COORDINATION_INPUT])[0]
    assert one.json()["prediction"] == expected["prediction"]
    assert one.json()["probabilities"] == pytest.approx(expected["probabilities"], abs=1e-6)
    by_hand = sum(
        w
        * version_load(version=ModelVersion.objects.get(model__name=m)).predict_array(
            pd.DataFrame([COORDINATION_INPUT])
        )
        for w, m in zip(weights, members, strict=True)
    )
    assert np.allclose(list(expected["probabilities"].values()), by_hand[0], atol=1e-4)
    batch = api.post(
        "/api/v1/neural/predict/batch", {"model": "ma-ensemble", "inputs": [COORDINATION_INPUT] * 3}, format="json"
    )
    assert batch.status_code == 200 and len(batch.json()["predictions"]) == 3

    metrics = api.get("/api/v1/neural/models/ma-ensemble/metrics").json()["versions"][0]
    assert metrics["kind"] == "ensemble" and metrics["ensemble"]["method"] == "weighted"


def test_the_model_page_marks_an_ensemble_version(client, user, members):
    run("neural", "ensemble", "--models", ",".join(members), "--method", "voting", "--name", "ens")
    client.force_login(user)
    page = client.get("/models/ens/").content.decode()
    assert 'data-field="kind">ensemble<' in page


def test_stacking_and_voting_from_the_cli_and_metrics_side_by_side(members):
    doc = run("neural", "ensemble", "--models", ",".join(members), "--method", "stacking", "--name", "stacked")
    assert doc["model"] == "stacked" and doc["method"] == "stacking" and doc["weights"] is None
    out = io.StringIO()
    call_command("neural", "metrics", "--model", "stacked", stdout=out)
    text = out.getvalue()
    assert "side by side" in text and "ma:v1" in text and "ensemble" in text
    voting = run("neural", "ensemble", "--models", "ma,mb:v1", "--method", "voting", "--name", "stacked")
    assert voting["version"] == "v2" and voting["weights"] == [0.5, 0.5]
    run("neural", "activate", "--model", "stacked", "--version", "v2")
    assert RegisteredModel.objects.get(name="stacked").active_version().version == 2
    validated = run("neural", "validate", "--model", "stacked", "--test-data", "coord")
    assert 0 <= validated["score"] <= 1
    compared = run("neural", "compare", "--models", "stacked:v1,stacked:v2,ma")
    assert [r["kind"] for r in compared] == ["ensemble", "ensemble", "network"]


def test_an_ensemble_archive_carries_its_members_and_round_trips(members, tmp_path, settings):
    run("neural", "ensemble", "--models", ",".join(members), "--method", "voting", "--name", "ens")
    archive = tmp_path / "ens.tar"
    run("neural", "save", "--model", "ens", "--path", str(archive))
    imported = run("neural", "load", "--path", str(archive), "--name", "ens-copy")
    copy = ModelVersion.objects.get(model__name="ens-copy")
    assert imported["version"] == "v1" and copy.kind == "ensemble"
    # the members exist here with the same files, so the copy pins them rather than duplicating
    assert [str(m.member) for m in EnsembleMember.objects.filter(ensemble=copy)] == ["ma:v1", "mb:v1", "mc:v1"]
    frame = pd.DataFrame([COORDINATION_INPUT])
    original = version_load(version=ModelVersion.objects.get(model__name="ens"))
    assert np.allclose(version_load(version=copy).predict_array(frame), original.predict_array(frame))

    # on an install without the members (fresh store and database rows), they come in too
    for name in ("ens-copy", "ens", *members):
        RegisteredModel.objects.filter(name=name).delete()
    settings.MODEL_STORAGE_PATH = tmp_path / "other-store"
    run("neural", "load", "--path", str(archive))
    assert set(RegisteredModel.objects.values_list("name", flat=True)) >= {"ens", "ma", "mb", "mc"}
    assert np.allclose(
        version_load(version=ModelVersion.objects.get(model__name="ens")).predict_array(frame),
        original.predict_array(frame),
    )


def test_a_tampered_ensemble_archive_is_refused_and_nothing_is_stored(members, tmp_path):
    run("neural", "ensemble", "--models", ",".join(members), "--method", "voting", "--name", "ens")
    archive = tmp_path / "ens.tar"
    run("neural", "save", "--model", "ens", "--path", str(archive))
    data = bytearray(archive.read_bytes())
    at = data.find(b"members/1/weights.safetensors") + 1200  # inside a member's tensor bytes
    data[at] ^= 0xFF
    archive.write_bytes(bytes(data))
    before = _stored_versions()
    with pytest.raises(CommandError, match=r"checksum|verification|archive"):
        run("neural", "load", "--path", str(archive), "--name", "other")
    assert _stored_versions() == before


def test_onnx_export_of_an_ensemble_is_one_graph(members, tmp_path):
    run("neural", "ensemble", "--models", ",".join(members), "--method", "stacking", "--name", "ens")
    path = tmp_path / "ens.onnx"
    info = run("neural", "export", "--model", "ens", "--path", str(path))
    predictor = version_load(version=ModelVersion.objects.get(model__name="ens"))
    frame = pd.DataFrame([COORDINATION_INPUT] * 2)
    x_num, x_cat = predictor.preprocessor.transform(frame)
    out = ort.InferenceSession(str(path)).run(None, {"x_num": x_num, "x_cat": x_cat})[0]
    assert info["output"] == "probabilities"
    assert np.abs(out - predictor.predict_array(frame)).max() < 1e-5


def test_members_in_use_cannot_be_deleted(api, admin_api, members):
    run("neural", "ensemble", "--models", ",".join(members), "--method", "voting", "--name", "ens")
    response = admin_api.delete("/api/v1/neural/models/mb?force=true")
    assert response.status_code == 409 and "ens:v1" in response.json()["error"]
    assert RegisteredModel.objects.filter(name="mb").exists()
    assert admin_api.delete("/api/v1/neural/models/ens?force=true").status_code == 204
    assert admin_api.delete("/api/v1/neural/models/mb?force=true").status_code == 204


@pytest.mark.parametrize(
    ("body", "field"),
    [
        ({"models": ["ma"], "method": "voting"}, "models"),
        ({"models": ["ma", "ma"], "method": "voting"}, "models"),
        ({"models": ["ma", "ghost"], "method": "voting"}, "models"),
        ({"models": ["ma", "mb"], "method": "boosting"}, "method"),
        ({"models": ["ma", "mb"], "method": "weighted", "weights": [1, 2, 3]}, "weights"),
        ({"models": ["ma", "mb"], "method": "weighted", "weights": "heavy"}, "weights"),
        ({"models": ["ma", "mb"], "method": "voting", "name": "../x"}, "name"),
    ],
)
def test_bad_requests_are_400_naming_the_field_and_store_nothing(api, members, body, field):
    before = _stored_versions()
    response = api.post("/api/v1/neural/ensembles", body, format="json")
    assert response.status_code == 400, response.json()
    assert field in response.json()["fields"]
    assert _stored_versions() == before
    assert not any(p.name.endswith("-ensemble") for p in storage_root().iterdir())


def test_members_with_other_columns_or_task_are_refused(api, members, user):
    other = make_dataset(name="prediction-data", pattern="prediction", rows=300)
    train_here(dataset=other, model_name="pred", epochs=1, user=user, hidden_sizes=[8])
    before = _stored_versions()
    response = api.post("/api/v1/neural/ensembles", {"models": ["ma", "pred"], "method": "voting"}, format="json")
    assert response.status_code == 400 and "models" in response.json()["fields"]
    assert _stored_versions() == before
    with pytest.raises(CommandError) as excinfo:
        call_command("neural", "ensemble", "--models", "ma,pred", "--method", "voting")
    assert excinfo.value.returncode == 2
    with pytest.raises(CommandError) as excinfo:
        call_command("neural", "ensemble", "--models", "ma,mb", "--method", "weighted", "--weights", "1,x")
    assert excinfo.value.returncode == 2


def test_an_ensemble_version_takes_a_rollout_feedback_and_drift_checks(api, admin_api, members, dataset):
    # the ensemble as v2 of one of its members' own model: a candidate for an A/B rollout
    response = api.post(
        "/api/v1/neural/ensembles", {"models": members, "method": "voting", "name": "ma"}, format="json"
    )
    assert response.status_code == 201 and response.json()["version"] == "v2" and not response.json()["active"]
    rollout = admin_api.post("/api/v1/neural/models/ma/rollout", {"version": "v2", "weight": 50}, format="json")
    assert rollout.status_code == 200, rollout.json()
    served = {
        api.post(
            "/api/v1/neural/predict",
            {"model": "ma", "input": COORDINATION_INPUT},
            format="json",
            HTTP_X_CALLER_KEY=f"caller-{i}",
        ).json()["version"]
        for i in range(40)
    }
    assert served == {"v1", "v2"}
    pinned = api.post("/api/v1/neural/predict", {"model": "ma:v2", "input": COORDINATION_INPUT}, format="json")
    prediction = pinned.json()
    assert prediction["version"] == "v2"
    feedback = api.post(
        "/api/v1/neural/feedback",
        {"prediction_id": prediction["prediction_id"], "actual": prediction["prediction"]},
        format="json",
    )
    assert feedback.status_code in (200, 201), feedback.json()
    accuracy = api.get("/api/v1/neural/accuracy", {"model": "ma", "timeframe": "30d"}).json()
    assert any(b["version"] == "v2" and b["accuracy"] == 1.0 for b in accuracy["buckets"])
    promoted = admin_api.post("/api/v1/neural/models/ma/rollout/promote")
    assert promoted.status_code == 200 and promoted.json()["active_version"] == "v2"
    drift = api.get("/api/v1/neural/drift", {"model": "ma", "window": "1d"})
    assert drift.status_code == 200, drift.json()
    assert drift.json()["version"] == "v2" and drift.json()["rows"] >= 1
