from __future__ import annotations

from neural.registry.models import ModelVersion
from neural.serving.models import PredictionLog


def an_input(trained) -> dict:
    df = trained.dataset
    from neural.datasets.services import dataset_load_frame

    frame = dataset_load_frame(df)
    features = [c["name"] for c in df.schema if not c["excluded"] and c["name"] != df.target]
    import json

    return json.loads(frame[features].head(3).to_json(orient="records"))


def test_it_predicts_with_the_active_version(api, trained):
    rows = an_input(trained)
    res = api.post("/api/v1/neural/predict", {"model": "coord-model", "input": rows[0]}, format="json")
    assert res.status_code == 200, res.json()
    body = res.json()
    assert body["model"] == "coord-model" and body["version"] == "v1"
    assert set(body["probabilities"]) == {"False", "True"}
    assert abs(sum(body["probabilities"].values()) - 1) < 1e-4
    assert PredictionLog.objects.filter(pk=body["prediction_id"]).exists()


def test_it_predicts_a_batch(api, trained):
    rows = an_input(trained)
    res = api.post("/api/v1/neural/predict/batch", {"model": "coord-model:v1", "inputs": rows}, format="json")
    assert res.status_code == 200
    preds = res.json()["predictions"]
    assert len(preds) == 3 and len({p["prediction_id"] for p in preds}) == 3


def test_it_lists_each_bad_field(api, trained):
    row = an_input(trained)[0]
    row.pop("agent_type")
    row["agent_skill"] = "very"
    row["colour"] = "red"
    res = api.post("/api/v1/neural/predict", {"model": "coord-model", "input": row}, format="json")
    assert res.status_code == 400
    assert res.json()["fields"] == {
        "agent_skill": "must be a number",
        "agent_type": "missing field",
        "colour": "unknown field",
    }
    assert PredictionLog.objects.count() == 0


def test_it_answers_404_for_an_unknown_model(api, db):
    res = api.post("/api/v1/neural/predict", {"model": "ghost", "input": {}}, format="json")
    assert res.status_code == 404 and res.json()["fields"] == {"model": "model 'ghost' does not exist"}


def test_it_refuses_malformed_json(api, db):
    res = api.post("/api/v1/neural/predict", data="{not json", content_type="application/json")
    assert res.status_code == 400 and "malformed" in res.json()["error"]


def test_the_models_endpoint_lists_versions(api, trained):
    body = api.get("/api/v1/neural/models/coord-model").json()
    assert body["active_version"] == "v1"
    assert body["versions"][0]["version"] == "v1" and body["versions"][0]["active"] is True
    assert body["activations"][0]["action"] == "activate"


def test_only_admins_activate(api, admin_api, trained):
    ModelVersion.objects.filter(model__name="coord-model").update(is_active=False)
    assert api.post("/api/v1/neural/models/coord-model/activate", {"version": "v1"}, format="json").status_code == 403
    res = admin_api.post("/api/v1/neural/models/coord-model/activate", {"version": "v1"}, format="json")
    assert res.status_code == 200 and res.json()["active_version"] == "v1"
