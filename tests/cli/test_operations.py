"""`neural setup | validate --all | save --all | dashboard --models | deploy --production |
robustness`, and the seed's CI sequence end to end on a fresh database."""

from __future__ import annotations

import json
import re
import tarfile
from io import StringIO

import pytest
from django.core.management import call_command, load_command_class
from django.core.management.base import CommandError

from neural.engine.training_file import load_training_file
from neural.engine.training_template import render_training_file
from neural.registry.models import ActivationEvent, ModelVersion
from tests.factories import make_dataset, train_here


def run(*args):
    out = StringIO()
    call_command(*args, "--json", stdout=out)
    return json.loads(out.getvalue())


def refused(*args) -> CommandError:
    with pytest.raises(CommandError) as err:
        call_command(*args, stdout=StringIO())
    return err.value


@pytest.fixture
def production_services(settings):
    """What the CI workflow's service containers give: Redis for the broker and channel layer."""
    redis_url = settings.TEST_REDIS_URL
    settings.CELERY_BROKER_URL = redis_url
    settings.CHANNEL_LAYERS = {
        "default": {"BACKEND": "channels_redis.pubsub.RedisPubSubChannelLayer", "CONFIG": {"hosts": [redis_url]}}
    }


@pytest.mark.slow
def test_it_runs_the_seed_ci_sequence_on_a_fresh_database(transactional_db, tmp_path, production_services):
    config = tmp_path / ".neural-training.yml"
    run("data", "generate", "--pattern", "coordination", "--rows", "600", "--name", "coordination-history")
    setup = run("neural", "setup", "--path", str(config))
    assert setup["ready"] and setup["mode"] == "production", setup["checks"]
    assert [s.ref for s in load_training_file(config).data_sources] == ["coordination-history"]
    trained = run("neural", "train", "--config", str(config), "--epochs", "4", "--wait")
    assert trained["status"] == "succeeded" and trained["model"] == "coordination"
    validated = run("neural", "validate", "--all", "--threshold", "0.5")
    assert validated["passed"] and validated["models"][0]["rows"] > 0
    deployed = run("neural", "deploy", "--production", "--all", "--threshold", "0.5", "--reason", "CI run 7")
    assert deployed["deployed"] and deployed["rows"][0]["action"].startswith("already active")
    event = ActivationEvent.objects.filter(action="deploy").get()
    assert "deploy --production: accuracy" in event.detail and event.detail.endswith("CI run 7")


def test_it_refuses_to_overwrite_the_config_and_names_what_is_missing(db, tmp_path):
    config = tmp_path / ".neural-training.yml"
    config.write_text("models: {}\n")
    err = refused("neural", "setup", "--path", str(config))
    assert err.returncode == 2 and "--force" in str(err) and config.read_text() == "models: {}\n"
    # Tests run on PostgreSQL with an in-memory broker: production mode lists the broker as missing.
    err = refused("neural", "setup", "--path", str(config), "--force", "--mode", "production")
    assert err.returncode == 1 and "production_broker" in str(err)
    assert load_training_file(config).models == {
        "prediction": {"epochs": 60, "learning_rate": 0.002, "validation_split": 0.2}
    }
    doc = run("neural", "setup", "--no-config", "--mode", "embedded", "--path", str(config))
    assert doc["ready"] and doc["config"] is None
    assert {c["name"] for c in doc["checks"]} >= {"database", "broker", "channel_layer", "model_storage", "disk_space"}


@pytest.fixture
def two_models(db):
    ds = make_dataset(rows=300)
    train_here(dataset=ds, model_name="alpha", epochs=3)
    train_here(dataset=ds, model_name="beta", epochs=3)
    return ds


def test_it_validates_all_and_exits_1_naming_the_models_below(two_models):
    doc = run("neural", "validate", "--all", "--threshold", "0.01")
    assert doc["passed"] and [m["model"] for m in doc["models"]] == ["alpha", "beta"]
    err = refused("neural", "validate", "--all", "--threshold", "1")
    assert err.returncode == 1 and "alpha" in str(err) and "beta" in str(err)


def test_it_deploys_a_new_version_and_refuses_changing_nothing_below_the_threshold(two_models):
    train_here(dataset=two_models, model_name="alpha", epochs=3)  # alpha:v2, not active
    before = ActivationEvent.objects.count()
    err = refused("neural", "deploy", "--production", "--model", "alpha", "--threshold", "1")
    assert err.returncode == 1 and "nothing was changed" in str(err)
    assert ActivationEvent.objects.count() == before
    assert ModelVersion.objects.get(model__name="alpha", is_active=True).version == 1
    doc = run("neural", "deploy", "--production", "--model", "alpha", "--threshold", "0.01", "--rollout", "20")
    assert doc["deployed"] and doc["rows"][0]["action"] == "rollout: 20% of traffic"
    event = ActivationEvent.objects.latest("created_at")
    assert event.action == "rollout" and event.to_version == 2 and "deploy --production" in event.detail


@pytest.mark.parametrize(
    "args",
    [
        ["neural", "deploy", "--production", "--all", "--rollout", "100"],
        ["neural", "deploy", "--production", "--all", "--threshold", "7"],
        ["neural", "save", "--all", "--path", "manage.py"],  # a file, not a folder
        ["neural", "dashboard", "--models", "nope"],
        ["neural", "robustness", "--model", "nope"],
        ["neural", "setup", "--min-free-gb", "-1"],
    ],
)
def test_it_exits_2_with_one_line_on_bad_input(two_models, args):
    err = refused(*args)
    assert err.returncode == 2 and "\n" not in str(err)


@pytest.mark.parametrize(
    ("args", "flag"),
    [
        (["neural", "deploy", "--all"], "--production"),
        (["neural", "validate"], "--model"),
        (["neural", "save"], "--path"),
    ],
)
def test_it_leaves_a_missing_required_flag_to_argparse(db, args, flag):
    """From a shell argparse prints usage and exits 2; under call_command Django raises its error."""
    err = refused(*args)
    assert str(err).startswith("Error: ") and flag in str(err)


def test_it_saves_every_active_model_into_a_folder(two_models, tmp_path):
    docs = run("neural", "save", "--all", "--path", str(tmp_path / "out"))
    assert sorted(d["model"] for d in docs) == ["alpha", "beta"]
    assert all(tarfile.is_tarfile(d["path"]) for d in docs)


def test_it_prints_the_dashboard_url_with_the_configured_port(two_models, settings):
    settings.PORT = 9123
    doc = run("neural", "dashboard", "--models", "beta")
    assert doc["url"] == "http://127.0.0.1:9123/" and [m["name"] for m in doc["models"]] == ["beta"]
    assert doc["pages"]["beta"] == "http://127.0.0.1:9123/models/beta/"


def test_it_measures_robustness_stores_it_and_serves_it(two_models, api, client, admin_user):
    report = run("neural", "robustness", "--model", "alpha", "--seed", "1")
    assert report["version"] == "v1" and "held-out" in report["data"]
    assert {c["perturbation"] for c in report["results"]} >= {"gaussian_noise", "missing_values", "fgsm", "pgd"}
    assert ModelVersion.objects.get(model__name="alpha").robustness["score"] == report["score"]
    body = api.get("/api/v1/neural/models/alpha/robustness").json()
    assert body["robustness"]["results"] == report["results"]
    assert api.get("/api/v1/neural/models/beta/robustness").status_code == 404
    client.force_login(admin_user)
    assert "Robustness (v1)" in client.get("/models/alpha/").content.decode()


def test_it_gates_deployment_on_a_minimum_robustness_score(two_models):
    ModelVersion.objects.filter(model__name="alpha").update(
        robustness={"data": "coord:v1 (held-out test rows)", "score": 0.5}
    )
    err = refused(
        "neural", "deploy", "--production", "--model", "alpha", "--threshold", "0.01", "--min-robustness", "0.6"
    )
    assert err.returncode == 1 and "alpha:v1" in str(err)
    assert not ActivationEvent.objects.filter(action="deploy").exists()
    doc = run("neural", "deploy", "--production", "--model", "beta", "--threshold", "0.01", "--min-robustness", "0")
    assert doc["deployed"] and doc["rows"][0]["robustness"] is not None
    assert ModelVersion.objects.get(model__name="beta").robustness["rows"] > 0  # measured and stored on the way


def test_it_takes_a_robustness_alert_rule_as_a_deploy_gate_and_fires_it(two_models):
    from neural.monitoring.alerts import alert_rule_create, alerts_evaluate
    from neural.registry.models import RegisteredModel

    alpha = RegisteredModel.objects.get(name="alpha")
    alert_rule_create(model=alpha, kind="robustness_below", threshold=0.6)
    ModelVersion.objects.filter(model=alpha).update(robustness={"data": "coord:v1 (held-out test rows)", "score": 0.5})
    err = refused("neural", "deploy", "--production", "--model", "alpha", "--threshold", "0.01")
    assert err.returncode == 1
    fired = alerts_evaluate(model=alpha)
    assert len(fired) == 1 and "robustness score 0.500 < 0.600" in fired[0].message


@pytest.mark.parametrize("name", ["setup", "validate", "save", "dashboard", "deploy", "robustness", "retrain-policy"])
def test_it_has_help_and_a_json_flag_for_every_new_form(name, capsys):
    from django.core.management import load_command_class

    parser = load_command_class("neural", "neural").create_parser("manage.py", "neural")
    with pytest.raises(SystemExit) as done:
        parser.parse_args([name, "--help"])
    assert done.value.code == 0
    assert "--json" in capsys.readouterr().out


def test_it_names_unwritable_storage_and_missing_disk_with_their_fixes(db, tmp_path, settings):
    blocker = tmp_path / "a-file"
    blocker.write_text("x")
    settings.MODEL_STORAGE_PATH = blocker / "models"  # a folder cannot be made under a file
    err = refused("neural", "setup", "--no-config", "--mode", "embedded", "--min-free-gb", "100000000")
    assert err.returncode == 1 and "model_storage" in str(err) and "disk_space" in str(err)
    out = StringIO()
    with pytest.raises(CommandError):
        call_command("neural", "setup", "--no-config", "--mode", "embedded", stdout=out)
    assert "fix: make" in out.getvalue()
    err = refused("neural", "setup", "--path", str(tmp_path), "--force")
    assert err.returncode == 2 and "not a file" in str(err)


def test_the_setup_file_names_only_commands_that_exist():
    text = render_training_file(patterns=["coordination"], data_sources=["d"], storage_path="models")
    named = re.findall(r"`(?:python manage\.py )?(neural|training|data) ([a-z-]+)", text)
    assert named
    for command, sub in named:
        assert sub in load_command_class("neural", command).subcommands, f"`{command} {sub}` does not exist"
