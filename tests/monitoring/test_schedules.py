"""Retraining schedules: daily, weekly, monthly and cron expressions, each a beat PeriodicTask."""

from __future__ import annotations

import json
from io import StringIO

import pytest
from django.core.management import call_command
from django.core.management.base import CommandError
from django_celery_beat.models import PeriodicTask

from neural.errors import DataError
from neural.monitoring.models import RetrainPolicy
from neural.monitoring.retraining import retrain_policy_set
from neural.monitoring.schedules import Cron, parse_schedule
from neural.registry.models import RegisteredModel


@pytest.fixture
def model(db):
    return RegisteredModel.objects.create(name="m", pattern="coordination")


def test_it_runs_monthly_on_the_first_at_three_and_a_cron_expression_as_written(model):
    retrain_policy_set(model=model, schedule="monthly")
    task = PeriodicTask.objects.get(name="monitoring: retrain m")
    assert task.interval is None and (task.crontab.minute, task.crontab.hour, task.crontab.day_of_month) == (
        "0",
        "3",
        "1",
    )
    retrain_policy_set(model=model, schedule="30  2 * * 1-5")
    task.refresh_from_db()
    assert task.crontab.day_of_week == "1-5" and task.crontab.minute == "30"
    assert RetrainPolicy.objects.get(model=model).schedule == "30 2 * * 1-5"
    retrain_policy_set(model=model, schedule="weekly")
    task.refresh_from_db()
    assert task.crontab is None and task.interval.every == 7
    retrain_policy_set(model=model, schedule="")
    assert not PeriodicTask.objects.filter(name="monitoring: retrain m").exists()


@pytest.mark.parametrize("text", ["fortnightly", "61 * * * *", "* * *", "*/0 * * * *", "* * 32 * *", "x" * 300])
def test_it_refuses_a_bad_expression_naming_the_field_and_writes_nothing(model, text):
    with pytest.raises(DataError) as err:
        retrain_policy_set(model=model, schedule=text)
    assert err.value.field == "schedule"
    assert not RetrainPolicy.objects.exists() and not PeriodicTask.objects.filter(name__contains="retrain").exists()


def test_it_parses_the_words_and_the_fields():
    assert parse_schedule("daily") == "daily" and parse_schedule("") == ""
    assert parse_schedule("0 */6 * * *") == Cron("0", "*/6", "*", "*", "*")


def test_it_sets_a_schedule_over_rest_and_answers_400_on_a_bad_one(api, model):
    res = api.post("/api/v1/neural/retrain-policies", {"model": "m", "schedule": "15 4 * * 0"}, format="json")
    assert res.status_code == 200 and res.json()["schedule"] == "15 4 * * 0"
    bad = api.post("/api/v1/neural/retrain-policies", {"model": "m", "schedule": "99 * * * *"}, format="json")
    assert bad.status_code == 400 and "schedule" in bad.json()["fields"]
    missing = api.post("/api/v1/neural/retrain-policies", {"model": "nope", "schedule": "daily"}, format="json")
    assert missing.status_code == 400 and "model" in missing.json()["fields"]
    assert api.get("/api/v1/neural/retrain-policies?model=m").json()[0]["schedule"] == "15 4 * * 0"


def test_it_sets_monthly_from_the_cli_and_exits_2_on_a_bad_expression(model):
    out = StringIO()
    call_command("neural", "retrain-policy", "--model", "m", "--schedule", "monthly", "--json", stdout=out)
    assert json.loads(out.getvalue())["schedule"] == "monthly"
    with pytest.raises(CommandError) as err:
        call_command("neural", "retrain-policy", "--model", "m", "--schedule", "0 25 * * *")
    assert err.value.returncode == 2 and "schedule" in str(err.value)
