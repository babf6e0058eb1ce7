"""Serving: scores, A/B rollout, cache dropped on activation, the fast path, logs off the request path."""

from __future__ import annotations

import io
import json
import math

import numpy as np
import onnxruntime as ort
import pytest
from django.core.management import call_command

from neural.datasets.services import dataset_load_frame
from neural.engine.errors import InputValidationError
from neural.engine.fastpath import FastPredictor
from neural.engine.predictor import load_predictor
from neural.registry.models import ModelVersion
from neural.registry.services import (
    model_rollout_abort,
    model_rollout_promote,
    model_rollout_start,
    model_version_activate,
)
from neural.registry.storage import version_dir
from neural.serving import services as serving
from neural.serving.logwriter import log_writer
from neural.serving.models import PredictionLog
from neural.serving.scores import score_for


def rows(dataset, n=5, start=0) -> list[dict]:
    frame = dataset_load_frame(dataset)
    features = [c["name"] for c in dataset.schema if not c["excluded"] and c["name"] != dataset.target]
    return json.loads(frame[features].iloc[start : start + n].to_json(orient="records", date_format="iso"))


def test_it_scores_per_pattern():
    assert score_for("coordination", {"False": 0.25, "True": 0.75}) == 0.75
    assert score_for("security", {"False": 0.1, "True": 0.9}) == 90.0
    assert score_for("security", {"low": 0.5, "medium": 0.0, "high": 0.5}) == 50.0
    assert score_for("optimization", {"cpu": 0.5, "io": 0.5}) is None


def test_the_fast_path_matches_the_engine_predictor(trained):
    version = ModelVersion.objects.get(model__name="coord-model")
    fast = serving.predictor_for(version)
    batch = rows(trained.dataset, 60)
    batch[0]["agent_skill"] = None  # a missing numeric is imputed the same way
    batch[1]["task_type"] = "never-seen"  # an unknown category takes the unknown slot
    batch[2]["agent_load"] = 2.5  # a float in an int column
    assert fast.predict_records(batch) == fast.predictor.predict_records(batch)
    slow_x = fast.predictor.preprocessor.transform(
        __import__("pandas").DataFrame.from_records(batch, columns=fast.feature_names)
    )
    fast_x = fast.transform(batch)
    assert np.array_equal(slow_x[0], fast_x[0]) and np.array_equal(slow_x[1], fast_x[1])
    assert isinstance(fast, FastPredictor) and fast.fast


def test_predict_answers_score_and_an_id_per_item(api, trained):
    body = {"model": "coord-model", "inputs": rows(trained.dataset, 4)}
    res = api.post("/api/v1/neural/predict/batch", body, format="json")
    assert res.status_code == 200, res.json()
    predictions = res.json()["predictions"]
    assert len({p["prediction_id"] for p in predictions}) == 4
    for p in predictions:
        assert p["score"] == p["probabilities"]["True"]
    assert PredictionLog.objects.filter(pk__in=[p["prediction_id"] for p in predictions]).count() == 4


@pytest.mark.parametrize(
    ("change", "field", "problem"),
    [
        ({"agent_skill": "NaN"}, "agent_skill", "must be a number"),
        ({"agent_skill": "high"}, "agent_skill", "must be a number"),
        ({"agent_skill": [1]}, "agent_skill", "must be a number"),
    ],
)
def test_it_refuses_bad_values(api, trained, change, field, problem):
    row = {**rows(trained.dataset, 1)[0], **change}
    res = api.post("/api/v1/neural/predict", {"model": "coord-model", "input": row}, format="json")
    assert res.status_code == 400 and res.json()["fields"] == {field: problem}


def test_it_refuses_nan_and_infinity_in_the_body(api, trained):
    row = rows(trained.dataset, 1)[0]
    body = json.dumps({"model": "coord-model", "input": row}).replace(
        f'"agent_skill": {json.dumps(row["agent_skill"])}', '"agent_skill": NaN'
    )
    res = api.post("/api/v1/neural/predict", data=body, content_type="application/json")
    assert res.status_code == 400
    body = json.dumps({"model": "coord-model", "inputs": [row, row]})
    body = body.replace('"agent_load": ', '"agent_load": -Infinity, "x": ', 1)
    res = api.post("/api/v1/neural/predict/batch", data=body, content_type="application/json")
    assert res.status_code == 400
    assert PredictionLog.objects.count() == 0


def test_it_refuses_batches_over_the_limit(api, trained, settings):
    settings.PREDICT_BATCH_MAX = 10
    res = api.post("/api/v1/neural/predict/batch", {"model": "coord-model", "inputs": [{}] * 11}, format="json")
    assert res.status_code == 400 and "PREDICT_BATCH_MAX" in res.json()["fields"]["inputs"]
    res = api.post("/api/v1/neural/predict/batch", {"model": "coord-model", "inputs": "x"}, format="json")
    assert res.status_code == 400 and res.json()["fields"] == {"inputs": "inputs must be a list of objects"}
    res = api.post("/api/v1/neural/predict/batch", {"model": "coord-model:v7", "inputs": [{}]}, format="json")
    assert res.status_code == 404


def test_recommend_ranks_candidates_by_success(api, trained):
    base = rows(trained.dataset, 1)[0]
    task = {k: base[k] for k in ("timestamp", "task_type", "task_complexity", "priority", "topology", "swarm_size")}
    candidates = [
        {"agent_type": t, "agent_skill": s, "agent_load": load}
        for t, s, load in [("coder", 0.9, 1), ("tester", 0.2, 9), ("reviewer", 0.6, 4)]
    ]
    body = {"model": "coord-model", "task": task, "candidates": candidates}
    res = api.post("/api/v1/neural/recommend", body, format="json")
    assert res.status_code == 200, res.json()
    ranking = res.json()["ranking"]
    scores = [r["score"] for r in ranking]
    assert scores == sorted(scores, reverse=True) and sorted(r["index"] for r in ranking) == [0, 1, 2]
    direct = serving.predict(model_ref="coord-model", records=[{**task, **candidates[ranking[0]["index"]]}])[1][0]
    assert direct["score"] == ranking[0]["score"]
    body = {"model": "coord-model", "task": task, "candidates": [{"x": 1}]}
    bad = api.post("/api/v1/neural/recommend", body, format="json")
    assert bad.status_code == 400 and "candidates" not in bad.json()["fields"]


def test_a_rollout_splits_traffic_by_weight_and_sticks_per_caller(trained, admin_user):
    from tests.registry.conftest import clone_version

    v1 = ModelVersion.objects.get(model__name="coord-model")
    v2 = clone_version(v1, 2)
    model_rollout_start(model=v1.model, version=v2, weight=10, user=admin_user)
    record = rows(trained.dataset, 1)
    calls = 4000
    answered = [serving.predict(model_ref="coord-model", records=record)[0].version for _ in range(calls)]
    share = answered.count(2) / calls
    # Binomial(4000, 0.10): standard deviation 0.0047; 0.10 +- 0.025 is more than 5 of them.
    assert abs(share - 0.10) < 0.025, share
    callers = [f"agent-{i}" for i in range(2000)]
    first = {c: serving.predict(model_ref="coord-model", records=record, caller=c)[0].version for c in callers}
    again = {c: serving.predict(model_ref="coord-model", records=record, caller=c)[0].version for c in callers}
    assert first == again
    assert abs(list(first.values()).count(2) / len(callers) - 0.10) < 0.035
    logged = PredictionLog.objects.filter(model_version=v2).count()
    assert logged == answered.count(2) + 2 * list(first.values()).count(2)
    model_rollout_promote(model=v1.model, user=admin_user)
    assert ModelVersion.objects.get(is_active=True, model=v1.model).version == 2
    assert serving.predict(model_ref="coord-model", records=record)[0].version == 2


def test_rollout_api_start_and_roll_back(admin_api, api, model):
    url = "/api/v1/neural/models/coord-model/rollout"
    assert api.post(url, {"version": "v2", "weight": 10}, format="json").status_code == 403
    assert admin_api.post(url, {"version": "v2", "weight": 0}, format="json").status_code == 400
    assert admin_api.post(url, {"version": "v1", "weight": 10}, format="json").status_code == 409
    res = admin_api.post(url, {"version": "v2", "weight": 20}, format="json")
    assert res.status_code == 200 and res.json()["rollout"]["candidate"] == "v2"
    res = admin_api.delete(url)
    assert res.status_code == 200 and res.json()["rollout"] is None and res.json()["active_version"] == "v1"
    assert [a["action"] for a in res.json()["activations"]][:2] == ["abort", "rollout"]
    assert admin_api.delete(url).status_code == 409
    model_rollout_start(model=model, version=model.versions.get(version=3), weight=5)
    model_rollout_abort(model=model)


def test_the_cache_follows_the_active_version(trained):
    from tests.registry.conftest import clone_version

    v1 = ModelVersion.objects.get(model__name="coord-model")
    v2 = clone_version(v1, 2)
    record = rows(trained.dataset, 1)
    assert serving.predict(model_ref="coord-model", records=record)[0].version == 1
    assert (v1.pk, v1.sha256) in serving._cache
    model_version_activate(version=v2)
    assert serving.predict(model_ref="coord-model", records=record)[0].version == 2
    assert (v1.pk, v1.sha256) not in serving._cache and (v2.pk, v2.sha256) in serving._cache


@pytest.mark.django_db(transaction=True)
def test_logs_are_written_by_the_background_thread(trained, settings):
    settings.PREDICTION_LOG_ASYNC = True
    ids = [serving.predict(model_ref="coord-model", records=rows(trained.dataset, 3))[1] for _ in range(5)]
    assert log_writer.flush(timeout=30)
    assert PredictionLog.objects.filter(pk__in=[p["prediction_id"] for batch in ids for p in batch]).count() == 15
    assert log_writer._thread is not None and log_writer._thread.is_alive()


def test_onnx_export_matches_the_product_to_1e5(trained, tmp_path):
    path = tmp_path / "coord.onnx"
    out = io.StringIO()
    args = ["--model", "coord-model", "--format", "onnx", "--path", str(path), "--json"]
    call_command("neural", "export", *args, stdout=out)
    assert json.loads(out.getvalue())["output"] == "probabilities"
    version = ModelVersion.objects.get(model__name="coord-model")
    fast = FastPredictor(load_predictor(version_dir(version.artifact_path)))
    batch = rows(trained.dataset, 64, start=10)
    x_num, x_cat = fast.transform(batch)
    session = ort.InferenceSession(str(path))
    onnx_out = session.run(None, {"x_num": x_num, "x_cat": x_cat})[0]
    product = serving.predict(model_ref="coord-model", records=batch)[1]
    keys = [str(c) for c in fast.predictor.encoder.classes_]
    expected = np.array([[p["probabilities"][k] for k in keys] for p in product])
    # The product rounds probabilities to 6 decimals (+-5e-7); the bound is 1e-5.
    assert np.abs(onnx_out - expected).max() < 1e-5
    assert not math.isnan(float(onnx_out.sum()))


def test_an_activation_made_elsewhere_answers_within_the_route_ttl(trained, monkeypatch):
    """A queryset update sends no signal, as a change in another process: the cached route holds
    for at most ROUTE_TTL_S, then the database is asked again."""
    from tests.registry.conftest import clone_version

    v1 = ModelVersion.objects.get(model__name="coord-model")
    v2 = clone_version(v1, 2)
    record = rows(trained.dataset, 1)
    assert serving.predict(model_ref="coord-model", records=record)[0].version == 1
    ModelVersion.objects.filter(pk=v1.pk).update(is_active=False)
    ModelVersion.objects.filter(pk=v2.pk).update(is_active=True)
    assert serving.predict(model_ref="coord-model", records=record)[0].version == 1  # still cached
    now = serving.time.monotonic()
    monkeypatch.setattr(serving.time, "monotonic", lambda: now + serving.ROUTE_TTL_S + 0.01)
    assert serving.predict(model_ref="coord-model", records=record)[0].version == 2


def test_a_warm_route_asks_the_database_nothing_and_a_cold_one_asks_once(trained, django_assert_num_queries):
    serving.forget_routes()
    with django_assert_num_queries(1):
        assert serving.route(model_ref="coord-model").version.version == 1
    with django_assert_num_queries(0):
        assert serving.route(model_ref="coord-model").arm == "active"
    with django_assert_num_queries(1):
        assert serving.route(model_ref="coord-model:v1").arm == "pinned"


def test_deleting_a_model_forgets_its_route(trained, api):
    from neural.registry.services import model_delete

    record = rows(trained.dataset, 1)
    assert serving.predict(model_ref="coord-model", records=record)[0].version == 1
    model_delete(model=ModelVersion.objects.get(model__name="coord-model").model, force=True)
    res = api.post("/api/v1/neural/predict", {"model": "coord-model", "input": record[0]}, format="json")
    assert res.status_code == 404


def test_a_batch_with_problems_names_each_one_like_the_engine(trained):
    version = ModelVersion.objects.get(model__name="coord-model")
    fast = serving.predictor_for(version)
    batch = rows(trained.dataset, 4)
    batch[0]["agent_skill"] = True  # a boolean is not a number
    batch[1]["agent_load"] = float("inf")
    batch[2]["task_type"] = 7  # a number is a fine category
    del batch[3]["priority"]
    with pytest.raises(InputValidationError) as fast_error:
        fast.validate(batch)
    with pytest.raises(InputValidationError) as engine_error:
        fast.predictor.preprocessor.validate_records(batch)
    assert fast_error.value.fields == engine_error.value.fields
    assert set(fast_error.value.fields) == {"inputs[0].agent_skill", "inputs[1].agent_load", "inputs[3].priority"}
    fast.validate(rows(trained.dataset, 50))  # the column-wise check passes clean rows
