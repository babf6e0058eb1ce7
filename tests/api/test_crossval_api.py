"""POST cross-validations through to the summary, with the fold tasks run by Celery (eager): the
folds side by side, the out-of-fold predictions, training with the measured options, and every
refusal naming its field with nothing stored."""

from __future__ import annotations

import csv
import io

import numpy as np
import pytest
from django.contrib.auth.models import Group
from rest_framework.test import APIClient
from scipy import stats

import neural.training.tasks  # noqa: F401 (registers the fold task, as a worker does)
from neural.datasets.generator import generate
from neural.datasets.services import dataset_store_frame
from neural.training.models import CrossValidation, CrossValidationFold, TrainingSession
from tests.factories import UserFactory, api_token, make_dataset

URL = "/api/v1/neural/cross-validations"


def start(api, **body):
    payload = {"pattern_type": "coordination", "training_data": "coord", "folds": 3, "epochs": 2, **body}
    return api.post(URL, payload, format="json")


def test_it_runs_every_fold_as_a_celery_task_and_summarises_them(
    api, dataset, eager_celery, django_capture_on_commit_callbacks
):
    with django_capture_on_commit_callbacks(execute=True) as sent:
        res = start(api, stratified=True)
    assert res.status_code == 202, res.json()
    assert len(sent) == 1  # one group of fold tasks, sent once the rows are committed
    assert res.json()["status"] == "queued" and res.json()["method"] == "stratified"
    cv_id = res.json()["cross_validation_id"]
    body = api.get(f"{URL}/{cv_id}").json()
    assert body["status"] == "succeeded", body
    folds = body["fold_results"]
    assert [f["fold"] for f in folds] == [1, 2, 3] and all(f["status"] == "succeeded" for f in folds)
    assert sum(f["test_rows"] for f in folds) == body["rows"] == dataset.rows
    assert all(f["train_rows"] + f["test_rows"] == dataset.rows for f in folds)
    accuracies = [f["metrics"]["accuracy"] for f in folds]
    summary = body["summary"]["accuracy"]
    assert summary["values"] == accuracies
    assert summary["mean"] == pytest.approx(np.mean(accuracies))
    assert summary["sd"] == pytest.approx(np.std(accuracies, ddof=1))
    low, high = stats.t.interval(0.95, df=2, loc=np.mean(accuracies), scale=np.std(accuracies, ddof=1) / np.sqrt(3))
    assert (summary["ci_low"], summary["ci_high"]) == (pytest.approx(low), pytest.approx(high))
    assert body["config"]["epochs"] == 2 and body["metric"] == "accuracy"
    listed = api.get(URL).json()
    assert listed["count"] == 1 and listed["results"][0]["summary"]["accuracy"]["mean"] == summary["mean"]


def test_the_out_of_fold_predictions_download_as_csv_one_line_per_row(
    api, dataset, eager_celery, django_capture_on_commit_callbacks
):
    with django_capture_on_commit_callbacks(execute=True):
        cv_id = start(api).json()["cross_validation_id"]
    res = api.get(f"{URL}/{cv_id}/predictions")
    assert res.status_code == 200 and res["Content-Type"].startswith("text/csv")
    rows = list(csv.DictReader(io.StringIO(b"".join(res.streaming_content).decode())))
    assert sorted(int(r["row"]) for r in rows) == list(range(dataset.rows))  # every row once
    assert [r["fold"] for r in rows] == sorted(r["fold"] for r in rows)  # fold after fold
    assert list(rows[0]) == ["row", "fold", "truth", "prediction", "p_False", "p_True"]
    by_fold = {}
    for r in rows:
        by_fold.setdefault(r["fold"], []).append(r)
        assert float(r["p_False"]) + float(r["p_True"]) == pytest.approx(1, abs=1e-5)
    for fold in CrossValidationFold.objects.filter(cross_validation_id=cv_id):
        mine = by_fold[str(fold.index + 1)]
        correct = np.mean([r["truth"] == r["prediction"] for r in mine])
        assert correct == pytest.approx(fold.metrics["accuracy"])  # the fold's score is of these rows


def test_a_session_trained_from_it_records_the_cross_validation(
    api, dataset, eager_celery, django_capture_on_commit_callbacks
):
    with django_capture_on_commit_callbacks(execute=True):
        cv_id = start(api, config={"learning_rate": 0.01}).json()["cross_validation_id"]
    res = api.post(f"{URL}/{cv_id}/train", {"model_name": "coord-cv"}, format="json")
    assert res.status_code == 202, res.json()
    session = TrainingSession.objects.get(pk=res.json()["session_id"])
    assert session.config["cross_validation_id"] == cv_id and session.config["learning_rate"] == 0.01
    assert session.model_name == "coord-cv" and session.dataset == dataset
    assert api.get(f"{URL}/{cv_id}").json()["sessions"] == [
        {"session_id": session.pk, "status": "queued", "model_name": "coord-cv"}
    ]


def test_training_from_an_unfinished_cross_validation_is_a_conflict(api, dataset):
    cv_id = start(api).json()["cross_validation_id"]  # queued: no worker in this test
    res = api.post(f"{URL}/{cv_id}/train", {}, format="json")
    assert res.status_code == 409 and "cross_validation" in res.json()["fields"]
    assert not TrainingSession.objects.exists()


def test_a_training_request_cannot_claim_a_cross_validation_by_hand(api, dataset):
    body = {"pattern_type": "coordination", "training_data": "coord", "config": {"cross_validation_id": 1}}
    res = api.post("/api/v1/neural/train", body, format="json")
    assert res.status_code == 400 and "cross_validation_id" in res.json()["fields"]


def _regression_dataset():
    df, _ = generate(pattern="prediction", rows=200, seed=1)
    return dataset_store_frame(
        df=df.drop(columns=["success"]), name="durations", target="duration_ms", pattern="prediction",
        source_format="generator",
    )  # fmt: skip


@pytest.mark.parametrize(
    ("body", "field", "words"),
    [
        ({"folds": 15, "stratified": True, "training_data": "opt"}, "folds", "class 'io' has 14"),
        ({"folds": 500, "training_data": "opt"}, "folds", ""),
        ({"group_column": "nope", "training_data": "opt"}, "group_column", "not a column"),
        ({"time_column": "nope", "training_data": "opt"}, "time_column", "not a column"),
        ({"time_column": "timestamp", "stratified": True, "training_data": "opt"}, "stratified", "forward"),
        ({"stratified": True, "training_data": "durations", "pattern_type": "prediction"}, "stratified", "classes"),
        ({"training_data": "missing"}, "training_data", "missing"),
        ({"pattern_type": None, "training_data": None}, "pattern_type", ""),
        ({"model": "nobody", "pattern_type": None}, "model", "nobody"),
        ({"config": {"learning_rate": -1}, "training_data": "opt"}, "learning_rate", ""),
        ({"config": {"cross_validation_id": 1}, "training_data": "opt"}, "cross_validation_id", "by hand"),
    ],
)
def test_a_request_the_data_cannot_take_is_a_400_naming_the_field_and_stores_nothing(api, db, body, field, words):
    make_dataset(name="opt", pattern="optimization", rows=400)
    _regression_dataset()
    body = {k: v for k, v in {"pattern_type": "optimization", **body}.items() if v is not None}
    res = api.post(URL, {"epochs": 2, **body}, format="json")
    assert res.status_code == 400, res.json()
    assert field in res.json()["fields"], res.json()
    assert words in str(res.json())
    assert not CrossValidation.objects.exists() and not CrossValidationFold.objects.exists()


def test_a_viewer_may_read_but_not_start_one(db, dataset):
    viewer = UserFactory(username="watcher")
    viewer.groups.add(Group.objects.get(name="viewers"))
    client = APIClient()
    client.credentials(HTTP_AUTHORIZATION=f"Token {api_token(viewer)}")
    assert start(client).status_code == 403
    assert client.get(URL).status_code == 200
