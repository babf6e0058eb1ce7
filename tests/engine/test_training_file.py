from __future__ import annotations

import pytest
import torch

from neural.engine.errors import DataError
from neural.engine.training_file import TrainingFileError, load_training_file, parse_training_file

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
