"""Hyperparameter search with Optuna: the search space, the samplers, and one trial's training.

A trial trains the model's network on the version's own data set and split with the sampled
options and is scored on the VALIDATION rows (the test rows stay untouched, so the version
trained from the best options reports an honest test figure). Each epoch's validation figure is
reported to Optuna, whose median pruner stops a trial that trails the others' at the same epoch.

The study lives wherever the caller's storage says (the shared database, so trials spread over
Celery workers); nothing here knows about Django.
"""

from __future__ import annotations

from dataclasses import dataclass, replace

import numpy as np
import optuna
import pandas as pd

from neural.engine.callbacks import Callback, EpochState
from neural.engine.config import TrainConfig
from neural.engine.errors import DataError
from neural.engine.pipeline import train_tabular
from neural.engine.schema import ColumnSpec, TaskKind

METHODS = ("grid", "random", "bayesian")
# The figure a study optimises (a key of the trained model's validation metrics) and its
# direction; --optimize takes the name on the left.
OBJECTIVES = {
    "classification": {
        "accuracy": ("val_accuracy", "maximize"),
        "macro_f1": ("val_macro_f1", "maximize"),
        "roc_auc": ("val_roc_auc", "maximize"),
        "loss": ("val_loss", "minimize"),
    },
    "regression": {
        "r2": ("val_r2", "maximize"),
        "mae": ("val_mae", "minimize"),
        "loss": ("val_loss", "minimize"),
    },
}


@dataclass(frozen=True)
class Param:
    """One searched option: a range (``low``..``high``, on a log scale when ``log``) or a set of
    ``choices``; ``grid`` holds the values the grid method tries (all choices when empty)."""

    name: str
    low: float | None = None
    high: float | None = None
    log: bool = False
    choices: tuple = ()
    grid: tuple = ()

    def grid_values(self) -> list:
        return list(self.grid or self.choices)

    def suggest(self, trial: optuna.Trial):
        if self.choices:
            return trial.suggest_categorical(self.name, list(self.choices))
        return trial.suggest_float(self.name, self.low, self.high, log=self.log)


# Hidden layers are written "256,128" because Optuna's categorical values must be plain numbers,
# booleans or strings.
SPACES = {
    # `neural hyper-optimize`: training options around the MLP's defaults (TASK_DEFAULTS).
    "hyper": (
        Param("learning_rate", low=1e-4, high=1e-2, log=True, grid=(5e-4, 2e-3, 5e-3)),
        Param("weight_decay", low=1e-6, high=1e-2, log=True, grid=(1e-5, 1e-3)),
        Param("dropout", low=0.0, high=0.5, grid=(0.1, 0.3)),
        Param("batch_size", choices=(64, 128, 256, 512), grid=(128, 256)),
        Param("hidden_sizes", choices=("128", "256,128", "512,256", "256,128,64"), grid=("256,128", "512,256")),
        Param("norm", choices=("batch", "layer")),
    ),
    # `neural architecture-search --search-space efficient`: small networks (a few thousand
    # parameters) for cheap serving; the report shows what each costs in parameters.
    "efficient": (
        Param("hidden_sizes", choices=("16", "32", "64", "128", "32,16", "64,32", "64,64", "128,64", "64,32,16")),
        Param("residual", choices=(False, True)),
        Param("norm", choices=("batch", "layer", "none")),
        Param("dropout", low=0.0, high=0.3, grid=(0.0, 0.1, 0.2)),
    ),
    # `--search-space standard`: the default network's size and larger.
    "standard": (
        Param(
            "hidden_sizes",
            choices=("128", "256", "256,128", "256,256", "512,256", "256,256,256", "512,256,128"),
        ),
        Param("residual", choices=(False, True)),
        Param("norm", choices=("batch", "layer")),
        Param("dropout", low=0.0, high=0.5, grid=(0.1, 0.3)),
    ),
}


# advanced.hyperparameter_tuning with transfer_learning (a training file): the network is the
# source model's, so only the training options of "hyper" are searched. Not offered to the
# search commands (it has no shapes to search).
FILE_SPACES = {"transfer": tuple(p for p in SPACES["hyper"] if p.name not in ("hidden_sizes", "norm"))}


def _space(name: str) -> tuple[Param, ...]:
    if name in FILE_SPACES:
        return FILE_SPACES[name]
    if name not in SPACES:
        raise DataError(f"unknown search space {name!r}; choose one of {', '.join(SPACES)}", field="search_space")
    return SPACES[name]


def grid_size(space: str = "hyper") -> int:
    return int(np.prod([len(p.grid_values()) for p in _space(space)]))


def objective_for(task: TaskKind, name: str) -> tuple[str, str]:
    """(metric key, direction) of ``--optimize name`` for the task; a clear error otherwise."""
    kind = "classification" if task.is_classification else "regression"
    options = OBJECTIVES[kind]
    if name not in options:
        raise DataError(f"cannot optimize {name!r} for {kind}; choose one of {', '.join(options)}", field="optimize")
    return options[name]


def check_method(method: str) -> None:
    if method not in METHODS:
        raise DataError(f"unknown method {method!r}; choose one of {', '.join(METHODS)}", field="method")


def make_sampler(method: str, seed: int, space: str = "hyper") -> optuna.samplers.BaseSampler:
    """grid: every combination of each option's grid values, in a seeded random order; random:
    independent draws; bayesian: TPE (Optuna's default), after 5 random start-up trials."""
    check_method(method)
    if method == "grid":
        return optuna.samplers.GridSampler({p.name: p.grid_values() for p in _space(space)}, seed=seed)
    if method == "random":
        return optuna.samplers.RandomSampler(seed=seed)
    return optuna.samplers.TPESampler(seed=seed, n_startup_trials=5)


def make_pruner() -> optuna.pruners.BasePruner:
    """The median rule, once 3 trials have finished and from the 3rd epoch on."""
    return optuna.pruners.MedianPruner(n_startup_trials=3, n_warmup_steps=2)


def suggest_config(trial: optuna.Trial, base: TrainConfig, space: str = "hyper") -> TrainConfig:
    """``base`` with every option of ``space`` drawn for ``trial``."""
    return config_from_params({p.name: p.suggest(trial) for p in _space(space)}, base)


def config_from_params(params: dict, base: TrainConfig) -> TrainConfig:
    """``base`` with a finished trial's parameters (as Optuna stores them) applied."""
    values = dict(params)
    if "hidden_sizes" in values:
        values["hidden_sizes"] = [int(h) for h in str(values["hidden_sizes"]).split(",")]
    if "batch_size" in values:
        values["batch_size"] = int(values["batch_size"])
    # Every space searches the MLP: its shapes (norm, residual, widths up to 512) are the MLP's,
    # and TabM's members would multiply the cost of every width. (A transfer keeps its source's.)
    config = replace(base, **{"architecture": "mlp", **values})
    config.validate()
    return config


class ReportToTrial(Callback):
    """Reports each epoch's objective to the trial; raises ``optuna.TrialPruned`` when the pruner
    says the trial trails the others."""

    def __init__(self, trial: optuna.Trial, key: str) -> None:
        self.trial = trial
        self.key = key

    def on_epoch_end(self, state: EpochState) -> None:
        value = state.to_dict().get(self.key)
        if value is None:
            return
        self.trial.report(float(value), step=state.epoch)
        if self.trial.should_prune():
            raise optuna.TrialPruned(f"pruned at epoch {state.epoch} ({self.key} {value:.4f})")


def run_trial(
    trial: optuna.Trial,
    df: pd.DataFrame,
    target: str,
    *,
    base: TrainConfig,
    key: str,
    columns: list[ColumnSpec] | None = None,
    task: TaskKind | None = None,
    holdout: np.ndarray | None = None,
    space: str = "hyper",
    callbacks: list[Callback] | None = None,
) -> float:
    """Train with the trial's options (drawn from ``space``) and return the objective's
    validation value at the best epoch; the network's size is kept as the trial's
    ``parameters``. Raises ``optuna.TrialPruned`` when pruned. ``callbacks`` run after the
    pruning check of each epoch (a cancelled search raises ``optuna.TrialPruned`` there too)."""
    config = suggest_config(trial, base, space)
    trained = train_tabular(
        df,
        target,
        config=config,
        columns=columns,
        task=task,
        callbacks=[ReportToTrial(trial, key), *(callbacks or [])],
        holdout=holdout,
    )
    trial.set_user_attr("parameters", trained.architecture()["parameters"])
    if key not in trained.metrics:
        raise DataError(f"training measured no {key} (metrics: {', '.join(trained.metrics)})", field="optimize")
    return float(trained.metrics[key])
