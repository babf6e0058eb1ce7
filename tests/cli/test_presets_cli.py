from __future__ import annotations

import json
from io import StringIO

import pytest
from django.core.management import call_command
from django.core.management.base import CommandError

from neural.registry.models import ModelVersion
from neural.training.models import TrainingSession

BASE = ("training", "neural-train", "--pattern", "coordination", "--data", "coord")


def test_preset_default_queues_the_tabm_network_under_the_other_flags(dataset):
    out = StringIO()
    call_command(*BASE, "--preset", "default", "--epochs", "2", "--json", stdout=out)
    session = TrainingSession.objects.get(pk=json.loads(out.getvalue())["session_id"])
    assert session.config["architecture"] == "tabm" and session.config["epochs"] == 2


def test_preset_in_the_config_file_is_applied_and_the_flag_wins(dataset, tmp_path):
    path = tmp_path / ".neural-training.yml"
    path.write_text("models:\n  coordination:\n    preset: default\n")
    out = StringIO()
    call_command(*BASE, "--config", str(path), "--preset", "fast", "--json", stdout=out)
    session = TrainingSession.objects.get(pk=json.loads(out.getvalue())["session_id"])
    assert session.config["architecture"] == "mlp"


def test_a_preset_that_does_not_exist_is_exit_2_and_starts_nothing(dataset):
    with pytest.raises(CommandError) as err:
        call_command(*BASE, "--preset", "turbo", stdout=StringIO())
    message = "preset must be one of fast, default, best"
    assert err.value.returncode == 2 and message in str(err.value) and "\n" not in str(err.value)
    assert TrainingSession.objects.count() == 0


@pytest.mark.slow
def test_preset_best_trains_five_bagged_members_here_and_serves_them_as_one_version(dataset):
    out = StringIO()
    call_command(
        *BASE, "--preset", "best", "--epochs", "1", "--model-name", "coord-best", "--wait", "--json", stdout=out
    )
    doc = json.loads(out.getvalue())
    assert doc["status"] == "succeeded" and doc["version"] == "v1", doc
    version = ModelVersion.objects.get(model__name="coord-best", version=1)
    assert version.kind == "ensemble" and version.members.count() == 5
    assert {m.config["architecture"] for m in version.members.all()} == {"tabm"}
    assert doc["test_metrics"] == version.test_metrics and "accuracy" in version.test_metrics
