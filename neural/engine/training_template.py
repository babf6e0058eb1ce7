"""The commented ``.neural-training.yml`` that ``neural setup`` writes.

It has the seed's sections (models, data_sources, model_storage, optimization, advanced) with the
values ``training_file`` accepts today, and says in comments what each key does. The text is
parsed back by ``parse_training_file`` before it is written, so what setup writes always loads.
"""

from __future__ import annotations

import json

from neural.engine.config import TrainConfig

DEFAULTS = TrainConfig()


def _scalar(value: object) -> str:
    """A YAML scalar: JSON's spelling is valid YAML for numbers, booleans and strings."""
    return json.dumps(value)


def render_training_file(*, patterns: list[str], data_sources: list[str], storage_path: str) -> str:
    """The file's text for ``patterns`` (one models entry each) and ``data_sources`` (data set names).

    Args:
        patterns: the patterns to train, e.g. ["coordination", "security"].
        data_sources: stored data set names; `neural train --config F` picks, for each pattern, the
            first one of that pattern (else the first one).
        storage_path: the folder, inside ``MODEL_STORAGE_PATH``, where model versions are written.

    Returns:
        YAML text with comments.
    """
    lines = [
        "# PhotonDrift Neural training file, written by `python manage.py neural setup`.",
        "# `python manage.py neural train --config .neural-training.yml --wait` trains every model below;",
        "# flags given on the command line (--epochs, --learning-rate, ...) override these values.",
        "# Unknown keys and bad values are errors that name the key and its line.",
        "",
        "models:                       # one entry per pattern: coordination, optimization, prediction, security",
    ]
    for pattern in patterns:
        lines += [
            f"  {pattern}:",
            f"    epochs: {DEFAULTS.epochs}                 # upper bound; early stopping usually ends sooner",
            f"    learning_rate: {DEFAULTS.learning_rate}       # AdamW step size",
            f"    validation_split: {DEFAULTS.validation_split}     # share of non-test rows that picks the best epoch",
        ]
    lines += ["", "data_sources:                 # stored data set names (or name:vN); see `data list`"]
    lines += [f"  - {_scalar(name)}" for name in data_sources] or [
        "  []                          # none stored yet: `data import --name N --file F` or `data generate ...`"
    ]
    lines += [
        "",
        "model_storage:",
        f"  path: {_scalar(storage_path)}  # a folder inside MODEL_STORAGE_PATH (paths never leave it)",
        "  versioning: true             # every successful training adds a version v1, v2, ...",
        "  compression: false           # true or zstd: store weights zstd-compressed",
        "  backup: false                # a folder (or true for <path>/backups) that gets a copy of each version",
        "",
        "optimization:",
        f"  early_stopping: {_scalar(DEFAULTS.early_stopping)}",
        f"  patience: {DEFAULTS.patience}                 # epochs without improvement before stopping",
        f"  batch_size: {DEFAULTS.batch_size}",
        "  gpu_acceleration: false      # true needs a CUDA GPU on the machine that trains",
        "",
        "advanced:                      # each has its own command; true here only prints a reminder",
        "  cross_validation: false      # neural cross-validate --model M --folds 5",
        "  hyperparameter_tuning: false # neural hyper-optimize --model M --method bayesian --trials 20",
        "  ensemble: false              # neural ensemble --models A,B --method voting",
        "  transfer_learning: false     # neural transfer --source-model M --target-domain N",
        "",
    ]
    return "\n".join(lines)
