from __future__ import annotations

import json
from io import StringIO

import pytest
from django.core.management import call_command
from django.core.management.base import CommandError

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


@pytest.mark.parametrize(
    ("preset", "message"), [("best", "needs ensembles"), ("turbo", "preset must be one of fast, default, best")]
)
def test_a_preset_that_cannot_run_here_is_exit_2_and_starts_nothing(dataset, preset, message):
    with pytest.raises(CommandError) as err:
        call_command(*BASE, "--preset", preset, stdout=StringIO())
    assert err.value.returncode == 2 and message in str(err.value) and "\n" not in str(err.value)
    assert TrainingSession.objects.count() == 0
