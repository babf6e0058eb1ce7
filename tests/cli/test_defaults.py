"""The guide's troubleshooting lines omit arguments: the only or most recent candidate is used and
said on stderr; with none, one line naming the flag and exit 2."""

from __future__ import annotations

import json
from io import StringIO

import pytest
from django.core.management import call_command
from django.core.management.base import CommandError

from neural.registry.models import ModelVersion
from tests.factories import make_dataset, train_here


def run(*args) -> dict:
    out = StringIO()
    call_command(*args, "--json", stdout=out)
    return json.loads(out.getvalue())


def test_it_trains_on_the_only_data_set_with_its_pattern_when_both_are_omitted(db, capsys):
    make_dataset(name="ops", pattern="prediction", rows=200)
    body = run("neural", "train", "--dropout", "0.5", "--l2-reg", "0.01", "--epochs", "2", "--wait")
    assert body["status"] == "succeeded" and body["model"] == "prediction"
    err = capsys.readouterr().err
    assert "--data not given: using ops:v1 (the only data set)" in err and "using prediction" in err
    version = ModelVersion.objects.get()
    assert version.config["dropout"] == 0.5 and version.config["weight_decay"] == 0.01


def test_it_retrains_the_most_recently_trained_model_and_lists_the_others(db, capsys):
    ds = make_dataset(rows=200)
    train_here(dataset=ds, model_name="older", epochs=2)
    train_here(dataset=ds, model_name="newer", epochs=2)
    body = run("neural", "retrain", "--learning-rate", "0.0001", "--epochs", "2", "--wait")
    assert body["model"] == "newer" and body["version"] == "v2"
    assert "using newer (the most recently trained of newer, older)" in capsys.readouterr().err


def test_it_splits_the_most_recent_data_set(db, capsys):
    make_dataset(name="first", rows=100)
    make_dataset(name="second", rows=100)
    body = run("data", "split", "--validation-ratio", "0.3")
    assert body["name"] == "second" and body["version"] == 2
    assert "the most recent of second, first" in capsys.readouterr().err


@pytest.mark.parametrize(
    ("args", "flag"),
    [(["neural", "retrain"], "--model"), (["data", "split"], "--dataset"), (["neural", "train"], "--data")],
)
def test_it_exits_2_naming_the_flag_when_there_is_nothing_to_choose(db, args, flag):
    with pytest.raises(CommandError) as err:
        call_command(*args)
    assert err.value.returncode == 2 and str(err.value).startswith(flag)


def test_it_falls_back_to_any_data_set_when_none_has_the_pattern_given(db, capsys):
    make_dataset(name="coord", rows=200)  # a coordination data set
    body = run("neural", "train", "--pattern", "prediction", "--epochs", "2", "--wait")
    assert body["status"] == "succeeded" and body["model"] == "prediction"
    err = capsys.readouterr().err
    assert "--data not given: using coord:v1" in err and "--pattern not given" not in err
