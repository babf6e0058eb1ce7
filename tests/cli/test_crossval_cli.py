"""`neural cross-validate`: here when no worker is alive, on Celery (eager) when one is; `--train`
and `neural train --from-cv` record the cross-validation; bad input is exit 2 with nothing stored."""

from __future__ import annotations

import json
from io import StringIO

import pytest
from django.core.management import call_command
from django.core.management.base import CommandError
from django.utils import timezone

import neural.training.tasks  # noqa: F401 (registers the fold and training tasks, as a worker does)
from neural.registry.models import ModelVersion
from neural.training.models import CrossValidation, CrossValidationFold, TrainingSession, WorkerHeartbeat
from photondrift.celery import app as celery_app
from tests.factories import make_dataset


def run(*args) -> dict:
    out = StringIO()
    call_command(*args, "--json", stdout=out)
    return json.loads(out.getvalue())


def failing(*args) -> CommandError:
    with pytest.raises(CommandError) as err:
        call_command(*args, stdout=StringIO())
    return err.value


def test_it_cross_validates_a_models_options_here_when_no_worker_is_alive(trained, capsys):
    body = run("neural", "cross-validate", "--model", "coord-model", "--folds", "3", "--epochs", "2")
    assert body["status"] == "succeeded" and body["model_version"] == "coord-model:v1"
    assert body["method"] == "kfold" and len(body["fold_results"]) == 3
    assert {f["ran_in"] for f in body["fold_results"]} == {"cli"}
    assert body["config"]["epochs"] == 2  # the flag over the version's own 4
    assert body["config"]["hidden_sizes"] == trained.model_version.config["hidden_sizes"]
    assert set(body["summary"]) == {"accuracy", "macro_f1", "roc_auc"}
    assert "no Celery worker is alive" in capsys.readouterr().err


def test_it_prints_the_folds_side_by_side_and_the_interval(dataset):
    out = StringIO()
    call_command("neural", "cross-validate", "--pattern", "coordination", "--data", "coord", "--folds", "3",
                 "--epochs", "2", "--time-column", "timestamp", stdout=out)  # fmt: skip
    text = out.getvalue()
    assert "3 time folds" in text and "fold  status" in text
    accuracy = next(line for line in text.splitlines() if line.startswith("accuracy: "))
    assert " ± " in accuracy and "95% interval" in accuracy


@pytest.fixture
def eager_worker(transactional_db):
    """A live worker as `--wait` sees one (a fresh heartbeat), its tasks run by eager Celery."""
    WorkerHeartbeat.objects.create(hostname="eager@test", last_seen=timezone.now())
    celery_app.conf.task_always_eager = True
    yield
    celery_app.conf.task_always_eager = False


def test_with_a_worker_the_folds_run_as_celery_tasks_and_train_trains_with_their_options(eager_worker, capsys):
    make_dataset()
    body = run("neural", "cross-validate", "--pattern", "coordination", "--data", "coord", "--folds", "3",
               "--epochs", "2", "--stratified", "--learning-rate", "0.01", "--train")  # fmt: skip
    assert "queued: the workers train its 3 folds" in capsys.readouterr().err
    assert body["status"] == "succeeded" and body["method"] == "stratified"
    assert "cli" not in {f["ran_in"] for f in body["fold_results"]}
    assert body["trained"]["status"] == "succeeded"
    session = TrainingSession.objects.get()
    assert session.config["cross_validation_id"] == body["cross_validation_id"]
    assert session.config["learning_rate"] == 0.01
    version = ModelVersion.objects.get()
    assert version.config["cross_validation_id"] == body["cross_validation_id"]  # model.json says so too


def test_train_from_cv_trains_with_its_options_and_records_it(dataset):
    cv = run("neural", "cross-validate", "--pattern", "coordination", "--data", "coord", "--folds", "2",
             "--epochs", "2", "--dropout", "0.2")  # fmt: skip
    body = run("neural", "train", "--from-cv", str(cv["cross_validation_id"]), "--model-name", "chosen", "--wait")
    assert body["status"] == "succeeded"
    version = ModelVersion.objects.get(model__name="chosen")
    assert version.config["cross_validation_id"] == cv["cross_validation_id"] and version.config["dropout"] == 0.2
    again = run("neural", "cross-validate", "--model", "chosen", "--folds", "2")  # its options, anew
    assert again["status"] == "succeeded" and again["config"]["dropout"] == 0.2
    assert again["config"]["cross_validation_id"] is None  # a new measurement is not the old one's
    err = failing("neural", "train", "--from-cv", str(cv["cross_validation_id"]), "--learning-rate", "0.1")
    assert err.returncode == 2 and "--learning-rate" in str(err)
    err = failing("neural", "train", "--from-cv", "999")
    assert err.returncode == 2 and "999" in str(err)


@pytest.mark.parametrize(
    ("args", "words"),
    [
        (["--folds", "1"], "--folds"),
        (["--group-column", "nope"], "group_column"),
        (["--time-column", "agent_type"], "time_column"),
        (["--folds", "8", "--stratified", "--data", "opt", "--pattern", "optimization"], "class 'io'"),
        (["--model", "coord-model", "--pattern", "coordination"], "--model M, or --pattern P"),
        (["--pattern", "nonsense"], "--pattern"),
        (["--model", "m", "--config", "x.yml"], "--config: with --model"),
        (["--model", "m", "--model-name", "other"], "--model-name: with --model"),
    ],
)
def test_bad_input_exits_2_naming_it_and_stores_nothing(db, args, words):
    make_dataset()
    df_rows = 60  # 60 optimization rows: its rarest class has fewer than 8
    make_dataset(name="opt", pattern="optimization", rows=df_rows)
    base = ["neural", "cross-validate", "--epochs", "2"]
    if "--pattern" not in args and "--model" not in args:
        base += ["--pattern", "coordination", "--data", "coord"]
    err = failing(*base, *args)
    assert err.returncode == 2 and words in str(err), str(err)
    assert not CrossValidation.objects.exists() and not CrossValidationFold.objects.exists()
