"""Searches over REST: start one (202, queued for the workers), list them, read one with its trials."""

from __future__ import annotations

import pytest
from django_celery_beat.models import PeriodicTask

from neural.training.models import TuningJob
from neural.training.tuning import tuning_job_run


def test_a_search_starts_queued_and_reads_back_with_every_trial(api, trained, django_capture_on_commit_callbacks):
    with django_capture_on_commit_callbacks() as queued:
        res = api.post(
            "/api/v1/neural/searches",
            {"model": "coord-model", "space": "efficient", "method": "random", "trials": 2, "epochs": 1},
            format="json",
        )
    assert res.status_code == 202, res.json()
    body = res.json()
    assert body["status"] == "queued" and body["space"] == "efficient" and body["model_version"] == "coord-model:v1"
    assert len(queued) == 1  # the runners are sent to the workers once the job is committed
    # beat ends a search whose workers died (declared in neural/periodic.py, there from migrate on)
    assert PeriodicTask.objects.filter(task="neural.training.tasks.tuning_jobs_settle_task").exists()
    assert api.get("/api/v1/neural/searches").json()["results"][0]["job_id"] == body["job_id"]
    tuning_job_run(job_id=body["job_id"])
    report = api.get(f"/api/v1/neural/searches/{body['job_id']}").json()
    assert report["status"] == "succeeded" and [t["number"] for t in report["trials"]] == [0, 1]
    assert report["best"]["value"] == max(t["value"] for t in report["trials"] if t["state"] == "complete")
    assert report["baseline"] == trained.model_version.metrics["val_accuracy"]
    assert api.get("/api/v1/neural/searches/99999").status_code == 404


@pytest.mark.parametrize(
    ("body", "field"),
    [
        ({"model": "ghost"}, "model"),
        ({"model": "coord-model", "method": "annealing"}, "method"),
        ({"model": "coord-model", "space": "huge"}, "space"),
        ({"model": "coord-model", "trials": 0}, "trials"),
        ({"model": "coord-model", "optimize": "r2"}, "optimize"),
    ],
)
def test_a_bad_search_is_a_400_naming_the_field_and_stores_nothing(api, trained, body, field):
    res = api.post("/api/v1/neural/searches", body, format="json")
    assert res.status_code == 400 and field in res.json()["fields"], res.json()
    assert not TuningJob.objects.exists()
