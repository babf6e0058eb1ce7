from __future__ import annotations

import json

import pytest
from django.core.management import call_command
from django.core.management.base import CommandError

from neural.datasets.models import Dataset
from neural.training.models import TrainingSession


def run(*args) -> dict | list:
    from io import StringIO

    out = StringIO()
    call_command(*args, "--json", stdout=out)
    return json.loads(out.getvalue())


@pytest.fixture
def csv_path(tmp_path):
    path = tmp_path / "ops.csv"
    rows = "".join(f"{i % 9},{['x', 'y', 'z'][i % 3]},{int((i % 9) + (i % 3) > 5)}\n" for i in range(120))
    path.write_text("load,queue,ok\n" + rows)
    return path


def test_data_import_prints_one_json_document(db, csv_path):
    body = run("data", "import", "--name", "ops", "--file", str(csv_path), "--target", "ok")
    assert body["name"] == "ops" and body["rows"] == 120 and body["task"] == "binary"
    assert body["columns"] == ["load", "queue", "ok"] and body["target"] == "ok"
    assert run("data", "list")[0]["sha256"] == Dataset.objects.get().sha256


def test_training_with_wait_and_no_worker_trains_here_and_says_so(db, csv_path, capsys):
    run("data", "import", "--name", "ops", "--file", str(csv_path), "--target", "ok")
    body = run("training", "neural-train", "--pattern", "prediction", "--data", "ops", "--epochs", "3", "--wait")
    assert body["status"] == "succeeded" and body["model"] == "prediction" and body["version"] == "v1"
    assert {"val_loss", "val_accuracy"} <= set(body["metrics"])
    assert "no Celery worker is alive" in capsys.readouterr().err
    assert TrainingSession.objects.get().ran_in == "cli"


def test_neural_train_is_an_alias_and_predict_answers(db, csv_path):
    run("data", "import", "--name", "ops", "--file", str(csv_path), "--target", "ok")
    run("neural", "train", "--pattern", "prediction", "--data", "ops", "--epochs", "2", "--wait", "--model-name", "m")
    body = run("neural", "predict", "--model", "m", "--input", '{"load": 3, "queue": "y"}')
    assert body["model"] == "m" and body["version"] == "v1"
    assert set(body["predictions"][0]["probabilities"]) == {"0", "1"}
    from_file = run("neural", "predict", "--model", "m:v1", "--file", str(_input_csv(csv_path)))
    assert len(from_file["predictions"]) == 2


def _input_csv(csv_path):
    path = csv_path.with_name("in.csv")
    path.write_text("load,queue\n1,x\n8,z\n")
    return path


@pytest.mark.parametrize(
    ("args", "message"),
    [
        (["data", "import", "--name", "x", "--file", "/nonexistent.csv", "--target", "ok"], "does not exist"),
        (["training", "neural-train", "--pattern", "astrology", "--data", "ops"], "unknown pattern"),
        (["training", "neural-train", "--pattern", "prediction", "--data", "ops", "--epochs", "0"], "--epochs"),
        (["training", "neural-train", "--pattern", "prediction", "--data", "ghost"], "does not exist"),
        (["neural", "predict", "--model", "ghost", "--input", "{}"], "does not exist"),
        (["neural", "predict", "--model", "m", "--input", "{oops"], "not valid JSON"),
    ],
)
def test_bad_input_is_one_line_and_exit_code_2(db, args, message):
    with pytest.raises(CommandError) as err:
        call_command(*args)
    assert err.value.returncode == 2
    assert message in str(err.value) and "\n" not in str(err.value)
    assert TrainingSession.objects.count() == 0


def test_bad_upload_leaves_no_dataset(db, tmp_path, settings):
    empty = tmp_path / "empty.csv"
    empty.write_text("")
    with pytest.raises(CommandError, match="empty"):
        call_command("data", "import", "--name", "e", "--file", str(empty), "--target", "ok")
    assert Dataset.objects.count() == 0
    assert not list(settings.DATASET_STORAGE_PATH.rglob("*.parquet"))
