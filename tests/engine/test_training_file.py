from __future__ import annotations

import pytest
import torch

from neural.engine.errors import DataError
from neural.engine.training_advanced import CrossValidation, Ensemble, HyperparameterTuning, TransferLearning
from neural.engine.training_file import TrainingFileError, load_training_file, parse_training_file
from tests.engine.seed_training_files import ADVANCED, BASIC

SEED_FILE = """\
models:
  coordination:
    epochs: 50
    learning_rate: 0.001
    validation_split: 0.2
  security:
    epochs: 30
data_sources:
  - coord
model_storage:
  path: ./models/
  versioning: true
  compression: true
  backup: true
optimization:
  early_stopping: true
  patience: 10
  batch_size: 32
  gpu_acceleration: false
advanced:
  cross_validation: false
  hyperparameter_tuning: false
  ensemble: false
  transfer_learning: false
"""


def test_it_reads_the_seed_shape_per_pattern(tmp_path):
    path = tmp_path / ".neural-training.yml"
    path.write_text(SEED_FILE)
    parsed = load_training_file(path, storage_root=tmp_path)
    options = parsed.train_options("coordination")
    assert options["epochs"] == 50 and options["learning_rate"] == 0.001 and options["validation_split"] == 0.2
    assert options["patience"] == 10 and options["batch_size"] == 32 and options["gpu"] is False
    assert parsed.train_options("security")["epochs"] == 30
    assert "epochs" not in parsed.train_options("prediction")
    storage = options["model_storage"]
    assert storage["compression"] is True and storage["backup"] == str(tmp_path / "models" / "backups")
    assert [s.ref for s in parsed.data_sources] == ["coord"]


@pytest.mark.parametrize(
    ("old", "new", "key", "line"),
    [
        ("  patience: 10", "  patiense: 10", "optimization.patiense", 17),
        ("    epochs: 50", "    epochs: fifty", "models.coordination.epochs", 3),
        ("    validation_split: 0.2", "    validation_split: 1.5", "models.coordination.validation_split", 5),
        ("  batch_size: 32", "  batch_size: big", "optimization.batch_size", 18),
        ("  compression: true", "  compression: lz4", "model_storage.compression", 13),
        ("  ensemble: false", "  ensemble: sometimes", "advanced.ensemble", 23),
        ("  coordination:", "  astrology:", "models.astrology", 2),
        ("data_sources:", "data_source:", "data_source", 8),
        pytest.param(
            "  gpu_acceleration: false",
            "  gpu_acceleration: true",
            "optimization.gpu_acceleration",
            19,
            marks=pytest.mark.skipif(torch.cuda.is_available(), reason="this machine has a GPU"),
        ),
    ],
)
def test_it_names_the_key_and_line_of_each_bad_entry(old, new, key, line):
    text = SEED_FILE.replace(old, new)
    assert text != SEED_FILE
    with pytest.raises(TrainingFileError) as err:
        parse_training_file(text)
    assert err.value.field == key and err.value.line == line
    assert f":{line}: {key}:" in err.value.message


def test_it_refuses_broken_yaml_and_a_missing_file(tmp_path):
    with pytest.raises(TrainingFileError, match="not valid YAML"):
        parse_training_file("models: [1")
    with pytest.raises(DataError, match="does not exist"):
        load_training_file(tmp_path / "nope.yml")


def test_an_empty_file_sets_nothing():
    assert parse_training_file("").train_options("coordination") == {}


@pytest.mark.parametrize("folder", ["/etc", "../../up", "models/../../up"])
def test_it_refuses_a_storage_folder_outside_the_model_store(tmp_path, folder):
    path = tmp_path / ".neural-training.yml"
    path.write_text(SEED_FILE.replace("  backup: true", f"  backup: {folder}"))
    with pytest.raises(TrainingFileError) as err:
        load_training_file(path, storage_root=tmp_path / "store")
    assert err.value.field == "model_storage.backup" and err.value.line == 14
    with pytest.raises(TrainingFileError):
        parse_training_file(SEED_FILE.replace("  backup: true", f"  backup: {folder}"))


def test_both_seed_files_load_verbatim_into_typed_fields(tmp_path):
    path = tmp_path / ".neural-training.yml"
    path.write_text(BASIC)
    basic = load_training_file(path, storage_root=tmp_path / "store")
    assert list(basic.models) == ["coordination", "optimization", "prediction", "security"]
    assert basic.train_options("optimization")["validation_split"] == 0.25
    assert {s.name: s.folder for s in basic.data_sources} == {
        "operations": tmp_path / "data" / "operations",
        "security": tmp_path / "data" / "security-scans",
        "performance": tmp_path / "data" / "performance",
        "coordination": tmp_path / "data" / "coordination",
    }
    assert basic.model_storage["path"] == str(tmp_path / "store" / "models")
    advanced = parse_training_file(ADVANCED).advanced
    assert advanced.cross_validation == CrossValidation(enabled=True, folds=5, stratified=True)
    assert advanced.hyperparameter_tuning == HyperparameterTuning(enabled=True, method="grid", trials=50)
    assert advanced.ensemble == Ensemble(enabled=True, methods=("voting", "stacking"), base_models=3)
    assert advanced.transfer_learning == TransferLearning(
        enabled=True, source_domain="general_operations", target_domain="security_operations"
    )
    assert advanced.enabled() == ["cross_validation", "hyperparameter_tuning", "ensemble", "transfer_learning"]


@pytest.mark.parametrize(("word", "method"), [("random_search", "random"), ("bayesian", "bayesian"), ("grid", "grid")])
def test_it_takes_the_seeds_method_spellings(word, method):
    text = ADVANCED.replace('"grid_search"', word)
    assert parse_training_file(text).advanced.hyperparameter_tuning.method == method


def test_a_block_may_be_a_plain_false_and_a_mapping_without_enabled_is_on():
    advanced = parse_training_file("advanced:\n  cross_validation: false\n  ensemble:\n    base_models: 4\n").advanced
    assert not advanced.cross_validation.enabled and advanced.ensemble == Ensemble(enabled=True, base_models=4)


@pytest.mark.parametrize(
    ("old", "new", "key", "line"),
    [
        ("      folds: 5", "      folds: 1", "neural_training.advanced.cross_validation.folds", 6),
        (
            "      stratified: true",
            "      stratified: maybe",
            "neural_training.advanced.cross_validation.stratified",
            7,
        ),
        ('"grid_search"', '"annealing"', "neural_training.advanced.hyperparameter_tuning.method", 12),
        ("      trials: 50", "      trials: 0", "neural_training.advanced.hyperparameter_tuning.trials", 13),
        ('["voting", "stacking"]', '["voting", "voting"]', "neural_training.advanced.ensemble.methods", 18),
        ("      base_models: 3", "      base_models: three", "neural_training.advanced.ensemble.base_models", 19),
        ('"general_operations"', '"../etc"', "neural_training.advanced.transfer_learning.source_domain", 24),
        (
            "      enabled: true\n      source",
            "      enabled: yes please\n      source",
            "neural_training.advanced.transfer_learning.enabled",
            23,
        ),
        ("    cross_validation:", "    cross_validate:", "neural_training.advanced.cross_validate", 4),
        ("  advanced:", "  advance:", "neural_training.advance", 2),
    ],
)
def test_it_names_the_key_and_line_of_each_bad_advanced_entry(old, new, key, line):
    text = ADVANCED.replace(old, new)
    assert text != ADVANCED
    with pytest.raises(TrainingFileError) as err:
        parse_training_file(text)
    assert err.value.field == key and err.value.line == line


@pytest.mark.parametrize("folder", ["/etc", "../up", "./data/../../up"])
def test_a_data_source_folder_must_stay_inside_the_files_folder(tmp_path, folder):
    path = tmp_path / "project" / ".neural-training.yml"
    path.parent.mkdir()
    path.write_text(BASIC.replace('"./data/performance/"', f'"{folder}"'))
    with pytest.raises(TrainingFileError) as err:
        load_training_file(path)
    assert err.value.field == "neural_training.data_sources.performance" and err.value.line == 28
