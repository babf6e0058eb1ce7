from __future__ import annotations

import json
import os
from io import StringIO

import pandas as pd
import pytest
import torch
from django.core.management import call_command
from django.core.management.base import CommandError

from neural.datasets.generator import generate
from neural.datasets.services import dataset_store_frame
from neural.registry.models import ModelVersion
from neural.training.models import TrainingSession


def run(*args) -> dict | list:
    out = StringIO()
    call_command(*args, "--json", stdout=out)
    return json.loads(out.getvalue())


def failing(*args) -> CommandError:
    with pytest.raises(CommandError) as err:
        call_command(*args, stdout=StringIO())
    return err.value


def test_training_status_and_logs_report_a_session(trained):
    status = run("training", "status", "--session", str(trained.pk))
    assert status["status"] == "succeeded" and status["epoch"] == status["epochs"] == 4
    logs = run("training", "logs", "--session", str(trained.pk))
    messages = [line["message"] for line in logs["lines"]]
    assert any(m.startswith("data: 400 rows") for m in messages)
    assert any(m.startswith("epoch 4/4") for m in messages)


def test_training_logs_follow_streams_every_line_of_a_finished_session(trained):
    out = StringIO()
    call_command("training", "logs", "--session", str(trained.pk), "--follow", stdout=out)
    lines = out.getvalue().strip().splitlines()
    assert len(lines) == trained.log_lines.count()
    assert "epoch 1/4" in out.getvalue()


def test_validate_passes_and_fails_against_a_threshold(trained):
    body = run("neural", "validate", "--model", "coord-model", "--threshold", "0.01")
    assert body["passed"] is True and body["metric"] == "accuracy"
    version = ModelVersion.objects.get()
    assert body["score"] == version.test_metrics["accuracy"]
    out = StringIO()
    with pytest.raises(CommandError) as err:
        call_command("neural", "validate", "--model", "coord-model", "--threshold", "1.0", "--json", stdout=out)
    assert err.value.returncode == 1 and "below 1.0" in str(err.value)
    assert json.loads(out.getvalue())["passed"] is False


def test_validate_scores_another_data_set(trained):
    body = run("neural", "validate", "--model", "coord-model:v1", "--test-data", "coord")
    assert body["rows"] == 400 and 0 <= body["score"] <= 1 and "macro_f1" in body["metrics"]


def test_metrics_detailed_has_the_confusion_matrix_and_every_epoch(trained):
    body = run("neural", "metrics", "--model", "coord-model", "--detailed")
    assert len(body["confusion_matrix"]) == len(body["classes"]) == 2
    assert sum(map(sum, body["confusion_matrix"])) == body["split"]["test_rows"]
    assert [e["epoch"] for e in body["epochs"]] == [1, 2, 3, 4]
    assert {"train_loss", "val_loss", "val_accuracy", "val_roc_auc", "lr", "epoch_time_s"} <= set(body["epochs"][0])


def test_metrics_detailed_has_per_class_figures_from_the_confusion_matrix(trained):
    body = run("neural", "metrics", "--model", "coord-model", "--detailed")
    cm, classes = body["confusion_matrix"], body["classes"]
    rows = body["per_class"]["classes"]
    assert [r["class"] for r in rows] == [str(c) for c in classes]
    for k, row in enumerate(rows):
        assert row["support"] == sum(cm[k])
        negatives = sum(map(sum, cm)) - sum(cm[k])
        assert row["false_positive_rate"] == pytest.approx((sum(r[k] for r in cm) - cm[k][k]) / negatives)
        if sum(cm[k]):
            assert row["recall"] == pytest.approx(cm[k][k] / sum(cm[k]))
    assert body["per_class"]["threshold"] == {"positive_class": str(classes[1]), "probability": 0.5}
    out = StringIO()
    call_command("neural", "metrics", "--model", "coord-model", "--detailed", stdout=out)
    assert "false-positive rate" in out.getvalue() and "decision threshold: " in out.getvalue()


def test_retrain_adds_a_version_and_compare_tables_both(trained):
    body = run("neural", "retrain", "--model", "coord-model", "--epochs", "2", "--learning-rate", "0.01", "--wait")
    assert body["status"] == "succeeded" and body["version"] == "v2"
    v2 = ModelVersion.objects.get(version=2)
    assert v2.parent.version == 1 and v2.config["learning_rate"] == 0.01 and v2.config["epochs"] == 2
    rows = run("neural", "compare", "--models", "coord-model:v1,coord-model:v2")
    assert [r["model"] for r in rows] == ["coord-model:v1", "coord-model:v2"]
    assert all({"dataset", "split", "test_accuracy", "parameters", "training_time_s"} <= set(r) for r in rows)
    assert all(len(r["per_class"]["classes"]) == 2 for r in rows)
    out = StringIO()
    call_command("neural", "compare", "--models", "coord-model:v1,coord-model:v2", stdout=out)
    assert out.getvalue().count("detection rate (recall)") == 2


def test_simplify_distils_under_the_budget_and_reports_the_change(trained):
    body = run("neural", "simplify", "--model", "coord-model", "--target-params", "800")
    assert body["version"] == "v2" and body["parameters"] <= 800 < body["parent_parameters"]
    assert body["change"] == pytest.approx(body["score"] - body["parent_score"])
    assert ModelVersion.objects.get(version=2).parent.version == 1


def test_optimize_batch_size_recommends_a_tried_size(trained):
    body = run("neural", "optimize-batch-size", "--model", "coord-model", "--epochs", "1", "--candidates", "64,128")
    assert body["recommended"] in (64, 128) and [t["batch_size"] for t in body["trials"]] == [64, 128]


def test_config_file_sets_options_and_flags_override_it(dataset, tmp_path):
    path = tmp_path / ".neural-training.yml"
    path.write_text("models:\n  coordination:\n    epochs: 2\n    learning_rate: 0.005\ndata_sources:\n  - coord\n")
    body = run("training", "neural-train", "--pattern", "coordination", "--config", str(path), "--epochs", "1")
    session = TrainingSession.objects.get(pk=body["session_id"])
    assert session.config["epochs"] == 1 and session.config["learning_rate"] == 0.005
    assert session.dataset == dataset


def test_parallel_flags_are_recorded_in_the_sessions_config(dataset):
    body = run("neural", "train", "--pattern", "coordination", "--data", "coord", "--parallel", "--workers", "2")
    config = TrainingSession.objects.get(pk=body["session_id"]).config
    assert config["parallel"] is True and config["workers"] == 2 and config["parallel_backend"] is None


def _tiny_dataset():
    df = pd.DataFrame({"x": range(10), "y": [0, 1] * 5})
    return dataset_store_frame(df=df, name="tiny", target="y", pattern="prediction", source_format="csv")


@pytest.mark.parametrize(
    ("args", "message"),
    [
        (["--config", "{config}"], ":3: optimization.patiense: unknown key"),
        (["--validation-split", "1.5"], "validation_split must be in (0, 0.9)"),
        pytest.param(
            ["--gpu"],
            "no CUDA GPU",
            marks=pytest.mark.skipif(torch.cuda.is_available(), reason="this machine has a GPU"),
        ),
        (["--data", "tiny"], "at least 20"),
        (["--parallel", "--workers", "1"], "workers must be a whole number >= 2"),
        (["--parallel", "--workers", str((os.cpu_count() or 1) + 1)], "the CPU cores of this machine"),
        (["--workers", "2"], "workers is for data-parallel training: set parallel to true"),
        (["--parallel", "--workers", "2", "--parallel-backend", "nccl"], "nccl trains on CUDA GPUs"),
    ],
)
def test_bad_training_input_is_exit_2_and_starts_nothing(dataset, tmp_path, args, message):
    _tiny_dataset()
    config = tmp_path / "bad.yml"
    config.write_text("optimization:\n  patience: 3\n  patiense: 4\n")
    args = [a.replace("{config}", str(config)) for a in args]
    base = ["training", "neural-train", "--pattern", "coordination"]
    error = failing(*base, *(args if "--data" in args else ["--data", "coord", *args]))
    assert error.returncode == 2 and message in str(error) and "\n" not in str(error)
    assert TrainingSession.objects.count() == 0


def test_a_string_where_a_number_belongs_names_key_and_line(dataset, tmp_path):
    config = tmp_path / "bad.yml"
    config.write_text("models:\n  coordination:\n    epochs: many\n")
    error = failing("training", "neural-train", "--pattern", "coordination", "--data", "coord", "--config", str(config))
    assert error.returncode == 2 and f"{config}:3: models.coordination.epochs" in str(error)


@pytest.mark.parametrize(
    "args",
    [
        ["neural", "validate", "--model", "ghost"],
        ["neural", "metrics", "--model", "ghost"],
        ["neural", "compare", "--models", "ghost,coord-model"],
        ["neural", "retrain", "--model", "ghost"],
        ["neural", "simplify", "--model", "ghost", "--target-params", "100"],
        ["neural", "optimize-batch-size", "--model", "ghost"],
        ["neural", "transfer", "--source-model", "ghost", "--target-domain", "coord"],
        ["neural", "hyper-optimize", "--model", "ghost"],
        ["training", "status", "--session", "999"],
        ["training", "logs", "--session", "999"],
    ],
)
def test_unknown_models_and_sessions_are_exit_2(db, args):
    error = failing(*args)
    assert error.returncode == 2 and ("does not exist" in str(error))


def test_bad_model_command_arguments_are_exit_2(trained):
    assert "--threshold" in str(failing("neural", "validate", "--model", "coord-model", "--threshold", "2"))
    error = failing("neural", "simplify", "--model", "coord-model", "--target-params", "5")
    assert error.returncode == 2 and "too small" in str(error)
    assert ModelVersion.objects.count() == 1 and TrainingSession.objects.count() == 1


def test_hyper_optimize_runs_its_trials_here_records_the_best_and_trains_it(trained):
    from neural.training.models import TuningJob

    body = run(
        "neural", "hyper-optimize", "--model", "coord-model", "--method", "random", "--trials", "3",
        "--epochs", "2", "--train-best",
    )  # fmt: skip
    job = TuningJob.objects.get(pk=body["job_id"])
    assert body["status"] == job.status == "succeeded" and job.trials_claimed == 3
    assert [t["number"] for t in body["trials"]] == [0, 1, 2]
    complete = [t for t in body["trials"] if t["state"] == "complete"]
    best = max(complete, key=lambda t: t["value"])
    assert body["best"] == {"trial": best["number"], "value": best["value"], "params": best["params"]}
    assert body["baseline"] == trained.model_version.metrics["val_accuracy"]
    assert all(t["seconds"] > 0 for t in body["trials"])
    # --train-best: a new version from the best options, with the base version's epochs and lineage
    child = ModelVersion.objects.get(model__name="coord-model", version=2)
    assert body["trained"]["version"] == "v2" and child.parent == trained.model_version
    assert child.config["learning_rate"] == best["params"]["learning_rate"]
    assert child.config["hidden_sizes"] == [int(h) for h in best["params"]["hidden_sizes"].split(",")]
    assert child.config["epochs"] == trained.model_version.config["epochs"] == 4


def test_a_grid_search_never_asks_for_more_trials_than_its_grid_and_texts_a_table(trained):
    from neural.engine.tuning import grid_size
    from neural.training.tuning import tuning_job_create

    job = tuning_job_create(user=None, version=trained.model_version, method="grid", trials=499)
    assert job.trials == min(499, grid_size()) and job.objective == "accuracy" and job.direction == "maximize"
    out = StringIO()
    call_command("neural", "hyper-optimize", "--model", "coord-model", "--method", "grid", "--trials", "2",
                 "--epochs", "1", stdout=out)  # fmt: skip
    text = out.getvalue()
    assert "grid search (hyper space) on coord-model:v1, 2 trials" in text
    assert "learning_rate" in text and "best: trial" in text


@pytest.mark.parametrize(
    ("args", "message"),
    [
        (["--method", "annealing"], "unknown method 'annealing'; choose one of grid, random, bayesian"),
        (["--trials", "0"], "trials must be a whole number from 1 to 500"),
        (["--optimize", "r2"], "cannot optimize 'r2' for classification"),
        (["--epochs", "0"], "epochs must be a whole number > 0"),
    ],
)
def test_bad_hyper_optimize_arguments_are_exit_2_and_store_no_job(trained, args, message):
    from neural.training.models import TuningJob

    error = failing("neural", "hyper-optimize", "--model", "coord-model", *args)
    assert error.returncode == 2 and message in str(error)
    assert not TuningJob.objects.exists()


def test_roc_auc_is_an_objective_for_two_classes_only():
    from types import SimpleNamespace

    from neural.errors import DataError
    from neural.training.tuning import objective_of

    assert objective_of(SimpleNamespace(task="binary", classes=["no", "yes"]), "roc_auc")[1:] == (
        "val_roc_auc",
        "maximize",
    )
    with pytest.raises(DataError, match="two classes only"):
        objective_of(SimpleNamespace(task="multiclass", classes=["a", "b", "c"]), "roc_auc")
    assert objective_of(SimpleNamespace(task="regression", classes=None), None) == ("r2", "val_r2", "maximize")


def test_transfer_fine_tunes_the_source_network_into_a_new_model_on_another_data_set(trained):
    from neural.engine.predictor import load_predictor
    from neural.registry.storage import version_dir
    from tests.factories import make_dataset

    make_dataset(name="coord-b", rows=300, seed=9)
    body = run("neural", "transfer", "--source-model", "coord-model", "--target-domain", "coord-b",
               "--fine-tune-epochs", "3", "--wait")  # fmt: skip
    assert body["status"] == "succeeded" and body["model"] == "coord-model-coord-b" and body["version"] == "v1"
    version = ModelVersion.objects.get(model__name="coord-model-coord-b")
    session = TrainingSession.objects.get(pk=body["session_id"])
    assert session.fine_tune and version.parent == trained.model_version and version.dataset.name == "coord-b"
    assert (
        version.config["epochs"] == 3 and version.config["hidden_sizes"] == trained.model_version.config["hidden_sizes"]
    )
    meta = load_predictor(version_dir(version.artifact_path)).meta
    assert meta["transfer"]["from"] == "coord-model:v1" and meta["transfer"]["head"] == "kept"
    assert any(line.message.startswith("transfer: ") for line in session.log_lines.all())
    detailed = run("neural", "metrics", "--model", "coord-model-coord-b", "--detailed")
    assert detailed["transfer"] == meta["transfer"]


def test_a_transfer_to_data_without_the_source_features_is_exit_2_and_starts_nothing(trained):
    frame, target = generate(pattern="coordination", rows=200, seed=4)
    dataset_store_frame(df=frame.drop(columns=["agent_skill"]), name="thin", target=target, pattern="coordination",
                        source_format="generator")  # fmt: skip
    error = failing("neural", "transfer", "--source-model", "coord-model", "--target-domain", "thin")
    assert error.returncode == 2 and "lacks the source model's feature column(s): agent_skill" in str(error)
    error = failing("neural", "transfer", "--source-model", "coord-model", "--target-domain", "coord",
                    "--fine-tune-epochs", "0")  # fmt: skip
    assert error.returncode == 2 and "--fine-tune-epochs" in str(error)
    assert TrainingSession.objects.count() == 1 and ModelVersion.objects.count() == 1


def test_architecture_search_tries_network_shapes_and_reports_their_size_front(trained):
    body = run("neural", "architecture-search", "--task", "coordination", "--model", "coord-model",
               "--search-space", "efficient", "--budget", "4", "--method", "random", "--epochs", "2")  # fmt: skip
    assert body["space"] == "efficient" and body["status"] == "succeeded" and len(body["trials"]) == 4
    assert all(set(t["params"]) == {"hidden_sizes", "residual", "norm", "dropout"} for t in body["trials"])
    complete = {t["number"]: t for t in body["trials"] if t["state"] == "complete"}
    assert all(t["parameters"] > 0 for t in complete.values())
    front = [complete[n] for n in body["pareto"]]
    assert front and [t["parameters"] for t in front] == sorted(t["parameters"] for t in front)
    assert [t["value"] for t in front] == sorted(t["value"] for t in front)
    assert front[-1]["value"] == max(t["value"] for t in complete.values()) == body["best"]["value"]


@pytest.mark.parametrize(
    ("args", "message"),
    [
        (["--task", "weather"], "--task: unknown pattern 'weather'"),
        (["--task", "coordination", "--search-space", "hyper"], "--search-space: unknown space 'hyper'"),
        (["--task", "coordination", "--budget", "0"], "--budget must be a whole number from 1 to 500"),
    ],
)
def test_bad_architecture_search_arguments_are_exit_2(trained, args, message):
    from neural.training.models import TuningJob

    error = failing("neural", "architecture-search", "--model", "coord-model", *args)
    assert error.returncode == 2 and message in str(error)
    assert not TuningJob.objects.exists()


def test_a_transfer_whose_source_was_deleted_before_it_ran_fails_with_the_reason(trained):
    from neural.engine.config import TrainConfig
    from neural.registry.services import model_delete
    from neural.training.services import training_session_create, training_session_run
    from tests.factories import make_dataset

    session = training_session_create(
        user=None,
        dataset=make_dataset(name="coord-c", rows=300, seed=11),
        pattern="coordination",
        config=TrainConfig.from_dict({**trained.model_version.config, "epochs": 1}),
        parent_version=trained.model_version,
        fine_tune=True,
        enqueue=False,
    )
    model_delete(model=trained.model_version.model, force=True)
    session = training_session_run(session_id=session.pk, ran_in="test")
    assert session.status == "failed" and "source version of this transfer was deleted" in session.error
