"""Sessions are named by id or by name everywhere: CLI `--session`, REST `train/{id-or-name}`."""

from __future__ import annotations

import json
from io import StringIO

import pytest
from django.core.management import call_command
from django.core.management.base import CommandError

from neural.training.models import TrainingSession
from neural.training.selectors import session_name_free


def start(api, **body):
    payload = {"pattern_type": "coordination", "training_data": "coord", "epochs": 2, **body}
    return api.post("/api/v1/neural/train", payload, format="json")


def test_it_serves_status_metrics_logs_and_stop_by_name(api, dataset):
    session_id = start(api, session_name="security-training-v1").json()["session_id"]
    assert api.get("/api/v1/neural/train/security-training-v1/status").json()["session_id"] == session_id
    stopped = api.delete("/api/v1/neural/train/security-training-v1")  # queued: stopped at once
    assert stopped.status_code == 200 and stopped.json()["status"] == "stopped"
    assert api.get("/api/v1/neural/train/security-training-v1/metrics").json()["session_id"] == session_id
    assert api.get("/api/v1/neural/train/security-training-v1/logs").json()["session_id"] == session_id
    assert api.get("/api/v1/neural/train/no-such-name/status").status_code == 404


def test_it_refuses_a_duplicate_name_for_the_same_model_with_400_naming_the_field(api, dataset):
    assert start(api, session_name="nightly").status_code == 202
    res = start(api, session_name="nightly")
    assert res.status_code == 400 and "session_name" in res.json()["fields"]
    assert start(api, session_name="nightly", model_name="other").status_code == 202  # unique per model only
    assert TrainingSession.objects.filter(name="nightly").count() == 2


@pytest.mark.parametrize("name", ["123", "two\nlines", "x" * 201, "../etc", "a\\b"])
def test_it_refuses_names_that_are_digits_or_not_one_short_line(api, dataset, name):
    res = start(api, session_name=name)
    assert res.status_code == 400 and "session_name" in res.json()["fields"]
    assert not TrainingSession.objects.exists()


def test_it_finds_a_session_by_name_in_the_cli_and_exits_2_on_a_duplicate(db, dataset, capsys):
    out = StringIO()
    call_command(
        "training",
        "neural-train",
        "--pattern",
        "coordination",
        "--data",
        "coord",
        "--epochs",
        "2",
        "--session-name",
        "security-training-v1",
        "--wait",
        "--json",
        stdout=out,
    )
    session_id = json.loads(out.getvalue())["session_id"]
    out = StringIO()
    call_command("training", "status", "--session", "security-training-v1", "--json", stdout=out)
    assert json.loads(out.getvalue())["session_id"] == session_id
    out = StringIO()
    call_command("training", "logs", "--session", "security-training-v1", "--json", stdout=out)
    assert json.loads(out.getvalue())["session_id"] == session_id
    with pytest.raises(CommandError) as err:
        call_command(
            "training",
            "neural-train",
            "--pattern",
            "coordination",
            "--data",
            "coord",
            "--session-name",
            "security-training-v1",
        )
    assert err.value.returncode == 2 and "session_name" in str(err.value)


def test_it_numbers_made_up_names_that_are_taken(db, dataset):
    TrainingSession.objects.create(
        dataset=dataset, pattern="coordination", model_name="m", config={}, epochs=1, name="retrain-of-m-v1"
    )
    assert session_name_free(model_name="m", base="retrain-of-m-v1") == "retrain-of-m-v1-2"
    assert session_name_free(model_name="other", base="retrain-of-m-v1") == "retrain-of-m-v1"
