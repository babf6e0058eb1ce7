"""The commented ``.neural-training.yml`` that ``neural setup`` writes.

It has the seed's sections (models, data_sources, model_storage, optimization, advanced) and
says in comments what each key does, naming only commands that exist. The text is
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
    lines += [
        "",
        "data_sources:                 # stored data set names (or name:vN); see `data list`. The seed's map form",
        "                              # (name: ./folder/) imports every file in the folder as data set `name`",
    ]
    lines += [f"  - {_scalar(name)}" for name in data_sources] or [
        "  []                          # none stored yet: `data import --name N --file F` or `data generate ...`"
    ]
    lines += [
        "",
        "model_storage:",
        f"  path: {_scalar(storage_path)}  # a folder inside MODEL_STORAGE_PATH (paths never leave it)",
        "  versioning: true             # true: each training adds v1, v2, ...; false: replaces the active version",
        "  compression: false           # true or zstd: store weights zstd-compressed",
        "  backup: false                # a folder (or true for <path>/backups) that gets a copy of each version",
        "",
        "optimization:",
        f"  early_stopping: {_scalar(DEFAULTS.early_stopping)}",
        f"  patience: {DEFAULTS.patience}                 # epochs without improvement before stopping",
        f"  batch_size: {DEFAULTS.batch_size}",
        "  gpu_acceleration: false      # true needs a CUDA GPU on the machine that trains",
        "",
        "advanced:                      # each block takes effect when enabled, or is an error naming its line",
        "  cross_validation:",
        "    enabled: false",
        "    folds: 5",
        "    stratified: true",
        "  hyperparameter_tuning:        # an Optuna search on each model's data before it trains",
        "    enabled: false",
        "    method: bayesian            # grid_search, random_search or bayesian",
        "    trials: 20",
        "  ensemble:",
        "    enabled: false",
        "    methods: [voting]           # voting, stacking or weighted",
        "    base_models: 3",
        "  transfer_learning:            # like `neural transfer --source-model M --target-domain N`",
        "    enabled: false",
        "    # source_domain: my-model     # a registered model whose network starts the training",
        "    # target_domain: my-data-set  # a data source above, or a stored data set, to train on",
        "",
    ]
    return "\n".join(lines)
