"""``advanced.ensemble``: K bagged member sessions as Celery work, combined once all finish."""

from __future__ import annotations

import io
import json

import pytest
from django.core.management import call_command
from django.core.management.base import CommandError

import neural.training.tasks  # noqa: F401  (registers the training tasks, as a worker does)
from neural.errors import DataError
from neural.registry.ensembles import ensemble_report
from neural.registry.models import ModelVersion
from neural.training.ensembles import ensemble_job_settle, ensemble_train_start
from neural.training.models import EnsembleJob, TrainingSession
from neural.training.services import training_session_stop
from tests.factories import train_here


def test_it_trains_bagged_members_then_creates_the_ensemble(
    dataset, user, eager_celery, django_capture_on_commit_callbacks
):
    options = {"epochs": 2, "hidden_sizes": [16], "model_name": "coord"}
    with django_capture_on_commit_callbacks(execute=True):
        job = ensemble_train_start(
            user=user, dataset=dataset, options=options, base_models=3, methods=["weighted", "stacking"]
        )
    job.refresh_from_db()
    sessions = list(job.sessions.order_by("pk"))
    assert [s.status for s in sessions] == ["succeeded"] * 3
    seeds = [s.config["bagging_seed"] for s in sessions]
    assert len(set(seeds)) == 3  # each member its own bootstrap rows and initialisation
    assert {s.model_name for s in sessions} == {"coord-members"}
    assert job.status == "succeeded", job.error
    version = job.model_version
    assert version.kind == "ensemble" and version.model.name == "coord"
    assert [str(m) for m in version.members.order_by("ensemble_links__position")] == [
        "coord-members:v1",
        "coord-members:v2",
        "coord-members:v3",
    ]
    report = ensemble_report(version=version)
    assert report["weights_fitted"] and report["method"] == "weighted" and "accuracy" in version.test_metrics
    assert version.config["bagging_seed"] is None and version.config["epochs"] == 2
    stacked = ModelVersion.objects.get(model__name="coord", version=2)  # the second method, same members
    assert ensemble_report(version=stacked)["method"] == "stacking"
    assert list(stacked.members.all()) == list(version.members.all())
    assert ensemble_job_settle(job_id=job.pk).model_version_id == version.pk  # a second settle changes nothing


def test_a_stopped_member_fails_the_job_naming_it(dataset, user):
    job = ensemble_train_start(user=user, dataset=dataset, options={"epochs": 1}, base_models=2)
    first, second = job.sessions.order_by("pk")
    training_session_stop(session=first)
    TrainingSession.objects.filter(pk=second.pk).update(status="failed")
    job = ensemble_job_settle(job_id=job.pk)
    assert job.status == "failed" and f"{first.pk} (stopped)" in job.error
    assert not ModelVersion.objects.filter(kind="ensemble").exists()


@pytest.mark.parametrize(
    ("kwargs", "field"),
    [
        ({"base_models": 1}, "base_models"),
        ({"base_models": 3, "method": "boosting"}, "method"),
        ({"base_models": 3, "methods": ["voting", "voting"]}, "methods"),
        ({"base_models": 3, "methods": []}, "methods"),
        ({"base_models": 3, "options": {"epochs": 0}}, "epochs"),
        ({"base_models": 3, "options": {"bagging_seed": 4}}, "bagging_seed"),
    ],
)
def test_bad_settings_are_refused_naming_the_field_and_store_nothing(dataset, user, kwargs, field):
    kwargs = {"options": {}, **kwargs}
    with pytest.raises(DataError) as excinfo:
        ensemble_train_start(user=user, dataset=dataset, **kwargs)
    assert excinfo.value.field == field
    assert not EnsembleJob.objects.exists() and not TrainingSession.objects.exists()


def test_an_ensemble_distils_into_one_small_network_and_is_no_transfer_source(dataset, user):
    for k, name in enumerate(("ma", "mb")):
        train_here(dataset=dataset, model_name=name, epochs=2, user=user, bagging_seed=k, hidden_sizes=[16])
    out = io.StringIO()
    call_command("neural", "ensemble", "--models", "ma,mb", "--method", "voting", "--name", "ens", stdout=out)
    out = io.StringIO()
    call_command("neural", "simplify", "--model", "ens", "--target-params", "400", "--json", stdout=out)
    report = json.loads(out.getvalue())
    assert report["parent_version"] == "v1" and report["version"] == "v2" and report["parameters"] <= 400
    assert ModelVersion.objects.get(model__name="ens", version=2).kind == "network"
    with pytest.raises(CommandError, match="no single network to fine-tune") as excinfo:
        call_command("neural", "transfer", "--source-model", "ens", "--target-domain", dataset.name)
    assert excinfo.value.returncode == 2
