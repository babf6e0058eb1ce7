"""`neural train --config F` as the seed writes F: one run, one session per model, folders
imported, every key's effect on the sessions and versions, and errors that store nothing."""

from __future__ import annotations

import json
from io import StringIO
from pathlib import Path

import pytest
from django.core.management import call_command
from django.core.management.base import CommandError

from neural.datasets.folders import dataset_import_folder
from neural.datasets.generator import generate
from neural.datasets.models import Dataset
from neural.registry.ensembles import ensemble_report
from neural.registry.models import ModelVersion
from neural.training.models import CrossValidation, EnsembleJob, TrainingRun, TrainingSession
from neural.training.services import training_session_run
from tests.engine.seed_training_files import ADVANCED, BASIC
from tests.factories import make_dataset, train_here

# The seed's data source folders and the pattern of the history each holds.
SEED_FOLDERS = {
    "operations": "prediction",
    "security-scans": "security",
    "performance": "optimization",
    "coordination": "coordination",
}


def run(*args) -> dict | list:
    out = StringIO()
    call_command(*args, "--json", stdout=out)
    return json.loads(out.getvalue())


def refused(*args) -> CommandError:
    with pytest.raises(CommandError) as err:
        call_command(*args, stdout=StringIO())
    return err.value


def write_history(folder: Path, pattern: str, *, rows: int = 160, seed: int = 1) -> None:
    """A pattern's history as CSV files, one of them in a sub-folder (imports are recursive)."""
    df, _ = generate(pattern=pattern, rows=rows, seed=seed)
    (folder / "older").mkdir(parents=True, exist_ok=True)
    half = rows // 2
    df.iloc[:half].to_csv(folder / "older" / "history-1.csv", index=False)
    df.iloc[half:].to_csv(folder / "history-2.csv", index=False)


def train_queued(run_id: int) -> list[TrainingSession]:
    """What the Celery workers do with the run's queued sessions."""
    sessions = TrainingRun.objects.get(pk=run_id).sessions.order_by("pk")
    return [training_session_run(session_id=s.pk, ran_in="test") for s in sessions]


def nothing_stored() -> bool:
    return not (TrainingRun.objects.exists() or TrainingSession.objects.exists() or Dataset.objects.exists())


@pytest.mark.slow
def test_the_seed_basic_file_trains_every_model_it_names_as_one_run(db, tmp_path, settings, api):
    for folder, pattern in SEED_FOLDERS.items():
        write_history(tmp_path / "data" / folder, pattern)
    config = tmp_path / ".neural-training.yml"
    config.write_text(BASIC)

    body = run("neural", "train", "--config", str(config))

    sessions = train_queued(body["run_id"])
    assert [s.status for s in sessions] == ["succeeded"] * 4, [s.error for s in sessions]
    by_model = {s.model_name: s for s in sessions}
    # models.<pattern>: each trains on its data source with its own epochs, rate and split
    assert {m: s.dataset.name for m, s in by_model.items()} == {
        "coordination": "coordination",
        "optimization": "performance",
        "prediction": "operations",
        "security": "security",
    }
    coordination, security = by_model["coordination"].config, by_model["security"].config
    assert (coordination["epochs"], coordination["learning_rate"], coordination["validation_split"]) == (50, 0.001, 0.2)
    assert (security["epochs"], security["learning_rate"]) == (150, 0.0003)
    assert by_model["prediction"].config["validation_split"] == 0.3
    # optimization: every model
    assert all(s.config["batch_size"] == 32 and s.config["patience"] == 10 for s in sessions)
    assert all(s.config["early_stopping"] is True and s.config["gpu"] is False for s in sessions)
    # data_sources: one data set version per folder, every CSV under it
    imported = Dataset.objects.get(name="operations")
    assert imported.rows == 160 and imported.operation["op"] == "import-folder"
    assert sorted(imported.operation["summary"]["files"]) == ["history-2.csv", "older/history-1.csv"]
    # model_storage: versions under path, compressed, with a verified backup
    store = Path(settings.MODEL_STORAGE_PATH)
    for session in sessions:
        version = session.model_version
        assert version.artifact_path == f"models/{session.model_name}/v1" and version.compression == "zstd"
        assert (store / version.artifact_path).is_dir()
        assert (store / "models" / "backups" / version.artifact_path / "SHA256SUMS").is_file()
        assert session.config["model_storage"]["versioning"] is True
    # the run, as the API, the CLI and the sessions page show it
    detail = api.get(f"/api/v1/neural/runs/{body['run_id']}").json()
    assert sorted(s["model_name"] for s in detail["sessions"]) == sorted(by_model)
    assert detail["config"]["data_sources"]["performance"] == "performance:v1"
    assert api.get("/api/v1/neural/runs").json()["results"][0]["session_count"] == 4
    listed = run("neural", "runs", "--run", str(body["run_id"]))
    assert [o["status"] for o in listed["sessions"]] == ["succeeded"] * 4

    again = run("neural", "train", "--config", str(config))  # nothing changed: no new data set version
    assert Dataset.objects.count() == 4 and again["run_id"] != body["run_id"]


def test_the_sessions_page_filters_and_links_a_run(admin_client, dataset, tmp_path):
    config = tmp_path / "f.yml"
    config.write_text(
        "neural_training:\n  models:\n    coordination:\n      epochs: 1\n  data_sources:\n    coordination: coord\n"
    )
    body = run("neural", "train", "--config", str(config))
    make_dataset(name="other")
    run("neural", "train", "--pattern", "coordination", "--data", "other", "--epochs", "1")
    page = admin_client.get("/sessions/", {"run": body["run_id"]}).content.decode()
    assert f'href="?run={body["run_id"]}"' in page and "coord:v1" in page and "other:v1" not in page
    assert admin_client.get("/sessions/", {"run": "x"}).status_code == 400


def test_reimporting_an_unchanged_folder_stores_nothing_and_a_change_adds_a_version(db, tmp_path):
    folder = tmp_path / "ops"
    write_history(folder, "prediction")
    (folder / "notes.bin").write_bytes(b"\x00\x01\x02 not a table")
    first, new = dataset_import_folder(name="ops", folder=folder, pattern="prediction")
    assert new and first.version == 1 and first.operation["summary"]["skipped"][0]["file"] == "notes.bin"
    again, new = dataset_import_folder(name="ops", folder=folder, pattern="prediction")
    assert not new and again.pk == first.pk and Dataset.objects.count() == 1
    write_history(folder, "prediction", seed=2)
    changed, new = dataset_import_folder(name="ops", folder=folder, pattern="prediction")
    assert new and changed.version == 2 and changed.sha256 != first.sha256


@pytest.mark.slow
def test_the_seed_advanced_file_trains_verbatim_with_every_block_in_effect(db, tmp_path):
    """The seed's advanced file pasted unchanged, `neural train --config F --wait` (no worker, so
    everything trains here): transfer, a 50-trial grid search, 5 stratified folds and a 3-member
    ensemble combined by voting and by stacking, each visible on what the run stored."""
    source = train_here(
        dataset=make_dataset(name="general_operations", rows=300), model_name="general_operations", epochs=2
    )
    target = make_dataset(name="security_operations", rows=300, seed=9)
    config = tmp_path / ".neural-training.yml"
    config.write_text(ADVANCED)

    body = run("neural", "train", "--config", str(config), "--wait")

    training_run = TrainingRun.objects.get(pk=body["run_id"])
    session = training_run.sessions.get(fine_tune=True)
    assert session.status == "succeeded", session.error
    # transfer_learning: the source's network, fine-tuned on the target data set
    assert session.parent_version == source.model_version and session.dataset == target
    # hyperparameter_tuning: a grid search (the grid may hold fewer than 50 points)
    assert (session.search["method"], session.search["trials"]) == ("grid", 50)
    assert session.search["counts"]["complete"] >= 1
    # cross_validation: 5 stratified folds of the session's own options on its own data
    (cv_id,) = training_run.config["cross_validations"]
    cv = CrossValidation.objects.get(pk=cv_id)
    assert session.config["cross_validation_id"] == cv_id
    assert (cv.status, cv.folds, cv.stratified, cv.dataset) == ("succeeded", 5, True, target), cv.error
    assert cv.fold_rows.filter(status="succeeded").count() == 5
    # ensemble: 3 bagged members in the same run, one ensemble version per method
    (job_id,) = training_run.config["ensembles"]
    job = EnsembleJob.objects.get(pk=job_id)
    assert job.status == "succeeded", job.error
    members = training_run.sessions.filter(model_name=f"{session.model_name}-members")
    assert members.count() == 3 and all(m.status == "succeeded" for m in members)
    assert len({m.config["bagging_seed"] for m in members}) == 3
    ensembles = ModelVersion.objects.filter(model__name=session.model_name, kind="ensemble")
    assert sorted(ensemble_report(version=v)["method"] for v in ensembles) == ["stacking", "voting"]


def test_tuning_and_transfer_from_the_advanced_file_take_effect(db, tmp_path):
    """The seed's advanced file with the two blocks this build lacks switched off."""
    source = train_here(
        dataset=make_dataset(name="general_operations", rows=300), model_name="general_operations", epochs=2
    )
    target = make_dataset(name="security_operations", rows=300, seed=9)
    text = ADVANCED.replace("      enabled: true\n      folds", "      enabled: false\n      folds")
    text = text.replace("      enabled: true\n      methods", "      enabled: false\n      methods")
    text = text.replace("trials: 50", "trials: 3")
    config = tmp_path / ".neural-training.yml"
    config.write_text(text)

    body = run("neural", "train", "--config", str(config))

    (session,) = train_queued(body["run_id"])
    assert session.status == "succeeded", session.error
    # transfer_learning: the source model's network starts training on the target data set
    assert session.fine_tune and session.parent_version == source.model_version and session.dataset == target
    assert session.model_name == "general_operations-security_operations"
    assert session.model_version.parent == source.model_version
    # hyperparameter_tuning: a grid search of 3 trials (training options only), its best options trained
    search = session.search
    assert (search["method"], search["trials"], search["space"]) == ("grid", 3, "transfer")
    assert search["counts"]["complete"] >= 1 and set(search["best_params"]) <= {
        "learning_rate",
        "weight_decay",
        "dropout",
        "batch_size",
    }
    assert session.config["learning_rate"] == search["best_params"]["learning_rate"]
    assert session.config["hidden_sizes"] == source.model_version.config["hidden_sizes"]
    assert TrainingRun.objects.get().config["advanced"]["hyperparameter_tuning"]["trials"] == 3


def test_versioning_false_replaces_the_active_version_and_keeps_one(dataset, settings):
    first = train_here(dataset=dataset, model_name="m", epochs=1, model_storage={"versioning": False})
    old = first.model_version
    second = train_here(dataset=dataset, model_name="m", epochs=2, model_storage={"versioning": False})
    version = ModelVersion.objects.get()
    assert second.model_version == version and version.version == 1 and version.is_active
    assert version.sha256 != old.sha256 and version.session_id == second.pk and version.config["epochs"] == 2
    folder = Path(settings.MODEL_STORAGE_PATH) / version.artifact_path
    assert sorted(p.name for p in folder.parent.iterdir()) == ["v1"]  # no .v1.new / .v1.old left
    assert json.loads((folder / "model.json").read_text())["replaced"]["sha256"] == old.sha256


ERRORS = [
    # (file text, key named, line)
    ("neural_training:\n  data_sources:\n    ops: ../outside/\n", "neural_training.data_sources.ops", 3),
    ("neural_training:\n  data_sources:\n    ops: ./missing/\n", "neural_training.data_sources.ops", 3),
    ("neural_training:\n  data_sources:\n    ops: nope\n", "neural_training.data_sources.ops", 3),
    (
        "neural_training:\n  models:\n    prediction: {epochs: 1}\n  data_sources:\n    coordination: coord\n",
        "neural_training.models.prediction",
        3,
    ),
    (
        "models:\n  coordination: {epochs: 1}\nadvanced:\n  hyperparameter_tuning:\n    method: annealing\n",
        "advanced.hyperparameter_tuning.method",
        5,
    ),
    ("advanced:\n  cross_validation:\n    folds: 1\n", "advanced.cross_validation.folds", 3),
    ("advanced:\n  ensemble:\n    base_models: 1\n", "advanced.ensemble.base_models", 3),
    ("advanced:\n  ensemble:\n    methods: [voting, boosting]\n", "advanced.ensemble.methods", 3),
    ("advanced:\n  transfer_learning: true\n", "advanced.transfer_learning", 2),
    (
        "advanced:\n  transfer_learning:\n    source_domain: nobody\n    target_domain: coord\n",
        "advanced.transfer_learning.source_domain",
        3,
    ),
    ("neural_training:\n  modelz: {}\n", "neural_training.modelz", 2),
    ("neural_training:\n  models: {}\nextra: 1\n", "extra", 3),
]


@pytest.mark.parametrize(("text", "key", "line"), ERRORS)
def test_a_bad_file_is_one_line_exit_2_naming_key_and_line_and_stores_nothing(dataset, tmp_path, text, key, line):
    config = tmp_path / ".neural-training.yml"
    config.write_text(text)
    Dataset.objects.all().delete()
    make_dataset()  # "coord", as the file names it
    error = refused("neural", "train", "--config", str(config))
    assert error.returncode == 2 and "\n" not in str(error)
    assert f"{config}:{line}: {key}:" in str(error)
    assert not TrainingRun.objects.exists() and not TrainingSession.objects.exists()
    assert list(Dataset.objects.values_list("name", flat=True)) == ["coord"]


def test_folds_the_data_cannot_take_name_the_file_key_and_store_nothing(db, tmp_path):
    """advanced.cross_validation is checked against each model's data set before anything is
    stored: 20 stratified folds need 20 rows of every class; this set's "io" class has 14."""
    make_dataset(name="perf", pattern="optimization")
    config = tmp_path / ".neural-training.yml"
    config.write_text(
        "models:\n  optimization: {epochs: 1}\ndata_sources: [perf]\n"
        "advanced:\n  cross_validation:\n    enabled: true\n    folds: 20\n    stratified: true\n"
    )
    error = refused("neural", "train", "--config", str(config))
    assert error.returncode == 2 and "\n" not in str(error)
    assert f"{config}:7: advanced.cross_validation.folds: 20 stratified folds need at least 20 rows" in str(error)
    assert not TrainingRun.objects.exists() and not TrainingSession.objects.exists()
    assert not CrossValidation.objects.exists()


def test_a_folder_that_fails_to_import_leaves_no_data_set_and_no_file(db, tmp_path, settings):
    write_history(tmp_path / "data" / "coordination", "coordination")
    (tmp_path / "data" / "broken").mkdir()
    (tmp_path / "data" / "broken" / "x.csv").write_text("a,b\n1,2\n")  # no target column
    config = tmp_path / ".neural-training.yml"
    config.write_text(
        "neural_training:\n  models:\n    coordination: {epochs: 1}\n"
        "  data_sources:\n    coordination: ./data/coordination/\n    security: ./data/broken/\n"
    )
    error = refused("neural", "train", "--config", str(config))
    assert error.returncode == 2 and f"{config}:6: neural_training.data_sources.security:" in str(error)
    assert nothing_stored()
    stored = Path(settings.DATASET_STORAGE_PATH)
    assert not stored.exists() or not any(p.is_file() for p in stored.rglob("*"))


def test_a_run_posted_to_the_api_queues_one_session_per_model(api, dataset):
    make_dataset(name="sec", pattern="security")
    text = (
        "neural_training:\n  models:\n    coordination: {epochs: 2}\n    security: {epochs: 3}\n"
        "  data_sources:\n    coordination: coord\n    scans: sec\n"
    )
    response = api.post("/api/v1/neural/runs", {"config": text}, format="json")
    assert response.status_code == 202, response.json()
    body = response.json()
    assert {(s["model_name"], s["dataset"], s["epochs"]) for s in body["sessions"]} == {
        ("coordination", "coord:v1", 2),
        ("security", "sec:v1", 3),
    }
    assert all(s["run"] == body["run_id"] and s["status"] == "queued" for s in body["sessions"])


@pytest.mark.parametrize(
    ("text", "field"),
    [
        ("advanced:\n  ensemble:\n    base_models: 99\n", "advanced.ensemble.base_models"),
        ("neural_training:\n  data_sources:\n    ops: ./data/ops/\n", "neural_training.data_sources.ops"),
        ("model_storage:\n  path: ./models/\n", "model_storage.path"),
    ],
)
def test_a_bad_file_posted_to_the_api_is_a_400_naming_the_key(api, dataset, text, field):
    response = api.post("/api/v1/neural/runs", {"config": text}, format="json")
    assert response.status_code == 400 and field in response.json()["fields"], response.json()
    assert not TrainingRun.objects.exists() and not TrainingSession.objects.exists()


def test_a_transfer_to_data_the_source_cannot_take_names_target_domain(dataset, tmp_path):
    train_here(dataset=dataset, model_name="general", epochs=1)
    make_dataset(name="scans", pattern="security")  # other columns than the coordination source
    config = tmp_path / ".neural-training.yml"
    config.write_text(
        "neural_training:\n  advanced:\n    transfer_learning:\n      enabled: true\n"
        "      source_domain: general\n      target_domain: scans\n"
    )
    error = refused("neural", "train", "--config", str(config))
    assert error.returncode == 2 and f"{config}:6: neural_training.advanced.transfer_learning.target_domain:" in str(
        error
    )
    assert not TrainingRun.objects.exists() and TrainingSession.objects.count() == 1  # the source's own


@pytest.mark.slow
def test_preset_best_in_the_file_trains_the_default_network_and_its_bagged_ensemble(dataset, tmp_path):
    config = tmp_path / ".neural-training.yml"
    config.write_text("models:\n  coordination:\n    epochs: 1\n    preset: best\ndata_sources: [coord]\n")

    body = run("neural", "train", "--config", str(config), "--wait")

    training_run = TrainingRun.objects.get(pk=body["run_id"])
    single = training_run.sessions.get(model_name="coordination")
    assert single.status == "succeeded" and single.config["architecture"] == "tabm"
    (job_id,) = training_run.config["ensembles"]
    job = EnsembleJob.objects.get(pk=job_id)
    assert job.status == "succeeded" and job.base_models == 5, job.error
    assert training_run.sessions.filter(model_name="coordination-members", status="succeeded").count() == 5
    assert job.model_version.kind == "ensemble" and job.model_version.model.name == "coordination"


def test_a_posted_file_of_nested_aliases_is_a_400_without_expanding_them(api, dataset):
    """A "billion laughs" file (each anchor ten aliases of the one before, 10**9 strings if
    expanded) under a key the schema knows: refused at the first value of the wrong shape."""
    anchors = ['&a0 ["x","x","x","x","x","x","x","x","x","x"]']
    anchors += [f"&a{i} [" + ",".join([f"*a{i - 1}"] * 10) + "]" for i in range(1, 9)]
    for text, field in (
        ("data_sources: [" + ", ".join(anchors) + "]\n", "data_sources"),
        ("advanced:\n  ensemble:\n    methods: [" + ", ".join(anchors) + "]\n", "advanced.ensemble.methods"),
    ):
        response = api.post("/api/v1/neural/runs", {"config": text}, format="json")
        assert response.status_code == 400 and field in response.json()["fields"], response.json()
    assert not TrainingRun.objects.exists() and not TrainingSession.objects.exists()
