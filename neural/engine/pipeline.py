"""From a DataFrame to a trained model: split, fit preprocessing on train, train, test."""

from __future__ import annotations

import time
from collections.abc import Callable, Sequence
from dataclasses import dataclass, field, replace
from pathlib import Path

import numpy as np
import pandas as pd
import torch
from sklearn.model_selection import train_test_split

from neural.engine.callbacks import Callback
from neural.engine.config import TrainConfig
from neural.engine.distributed import fit_parallel
from neural.engine.errors import DataError
from neural.engine.metrics import classification_metrics, confusion, regression_metrics
from neural.engine.networks import (
    TabMNetwork,
    TabularMLP,
    build_network,
    count_parameters,
    hidden_sizes_for_budget,
    numeric_bins,
)
from neural.engine.predictor import TabularPredictor
from neural.engine.preprocessing import TabularPreprocessor, TargetEncoder
from neural.engine.schema import ColumnSpec, TaskKind, infer_schema, infer_task
from neural.engine.trainer import FitResult, TensorData, Trainer

MIN_ROWS = 20


@dataclass
class Split:
    train: np.ndarray
    val: np.ndarray
    test: np.ndarray
    stratified: bool
    # The test rows were given (a split the data set carries), not drawn from the seed.
    given_test: bool = False

    def describe(self, config: TrainConfig) -> dict:
        return {
            "test_rows_from": "data set split" if self.given_test else "seed",
            "seed": config.seed,
            "validation_split": config.validation_split,
            "test_split": config.test_split,
            "stratified": self.stratified,
            "train_rows": len(self.train),
            "val_rows": len(self.val),
            "test_rows": len(self.test),
        }


def split_rows(y: pd.Series, task: TaskKind, config: TrainConfig, holdout: np.ndarray | None = None) -> Split:
    """Deterministic train/validation/test split, stratified for classification when possible.

    ``holdout`` (one boolean per row), when given, names the test rows (the validation rows of a
    data set made by ``data split``, e.g. its latest rows); the other rows are divided into
    training and validation (``validation_split`` of them) by the seed.
    """
    n = len(y)
    if n < MIN_ROWS:
        raise DataError(f"data set has {n} usable rows; at least {MIN_ROWS} are needed to split", field="training_data")
    idx = np.arange(n)
    if holdout is not None:
        rest, test = idx[~holdout], idx[holdout]
        if len(rest) < MIN_ROWS:
            raise DataError(
                f"the data set's split leaves {len(rest)} training rows; at least {MIN_ROWS} are needed",
                field="training_data",
            )
        labels = y.to_numpy()[rest]
        strat = labels if task.is_classification and pd.Series(labels).value_counts().min() >= 2 else None
        train, val = train_test_split(rest, test_size=config.validation_split, random_state=config.seed, stratify=strat)
        return Split(np.sort(train), np.sort(val), test, strat is not None, given_test=True)
    holdout_share = config.validation_split + config.test_split
    strat = y.to_numpy() if task.is_classification and y.value_counts().min() >= 3 else None
    train, rest = train_test_split(idx, test_size=holdout_share, random_state=config.seed, stratify=strat)
    if config.test_split == 0:
        return Split(train, rest, np.array([], dtype=int), strat is not None)
    rest_strat = strat[rest] if strat is not None and pd.Series(strat[rest]).value_counts().min() >= 2 else None
    val, test = train_test_split(
        rest, test_size=config.test_split / holdout_share, random_state=config.seed, stratify=rest_strat
    )
    return Split(np.sort(train), np.sort(val), np.sort(test), strat is not None)


@dataclass
class TrainedModel:
    """A fitted network with everything needed to predict and to describe itself."""

    network: TabularMLP
    preprocessor: TabularPreprocessor
    target: str
    encoder: TargetEncoder
    config: TrainConfig
    fit: FitResult
    split: dict
    metrics: dict[str, float] = field(default_factory=dict)
    test_metrics: dict[str, float] = field(default_factory=dict)
    confusion_matrix: list[list[int]] | None = None
    training_time_s: float = 0.0
    # Fine-tuned from another model (``train_tabular(warm_start=...)``): what was carried over.
    transfer: dict | None = None
    # The rows of each split (train/val/test), for whoever needs them after training (reference
    # profiles for drift, calibration); never written into model.json.
    frames: dict[str, pd.DataFrame] = field(default_factory=dict, repr=False)
    # A TabM network's architecture dict (build_network's input, fitted bin edges included).
    tabm_arch: dict | None = None

    def architecture(self) -> dict:
        if self.tabm_arch is not None:
            return {**self.tabm_arch, "parameters": count_parameters(self.network)}
        return {
            "type": "TabularMLP",
            "n_numeric": self.preprocessor.n_numeric,
            "cardinalities": self.preprocessor.cardinalities,
            "hidden_sizes": list(self.config.hidden_sizes),
            "n_outputs": self.encoder.n_outputs,
            "dropout": self.config.dropout,
            "residual": self.config.residual,
            "norm": self.config.norm,
            "parameters": count_parameters(self.network),
        }

    def meta(self) -> dict:
        """The content of ``model.json`` (the caller adds data set checksum and lineage)."""
        return {
            "architecture": self.architecture(),
            "preprocessing": self.preprocessor.to_dict(),
            "target": {"name": self.target, **self.encoder.to_dict()},
            "feature_schema": [c.to_dict() for c in self.preprocessor.features],
            "config": self.config.to_dict(),
            "split": self.split,
            "metrics": self.metrics,
            "test_metrics": self.test_metrics,
            "confusion_matrix": self.confusion_matrix,
            "best_epoch": self.fit.best_epoch,
            "epochs_run": len(self.fit.history),
            "training_time_s": self.training_time_s,
            **({"transfer": self.transfer} if self.transfer else {}),
        }


def train_tabular(
    df: pd.DataFrame,
    target: str,
    *,
    config: TrainConfig,
    columns: list[ColumnSpec] | None = None,
    task: TaskKind | None = None,
    callbacks: Sequence[Callback] = (),
    checkpoint_dir: Path | None = None,
    teacher: Callable[[pd.DataFrame], np.ndarray] | None = None,
    param_budget: int | None = None,
    holdout: np.ndarray | None = None,
    warm_start: TabularPredictor | None = None,
) -> TrainedModel:
    """Train the default tabular network on ``df`` to predict ``target``.

    Args:
        df: the whole data set; rows without a target are dropped.
        target: the column to predict.
        config: validated hyperparameters.
        columns: column specs (inferred when None); the target's own spec is ignored.
        task: inferred from the target when None.
        callbacks: epoch events and stop requests.
        checkpoint_dir: per-epoch checkpoints, and resume when one exists.
        teacher: for distillation, the teacher's predictions for rows of ``df``: class
            probabilities (columns in the sorted label order) or regression values in the
            target's units. The training targets become the mean of the truth and the teacher.
        param_budget: when given, ``config.hidden_sizes`` is replaced by the widest network
            with at most this many parameters.
        holdout: one boolean per row of ``df``: the test rows, when the data set carries its own
            split (see ``split_rows``).
        warm_start: transfer learning: a trained model whose input layout (fitted preprocessing)
            and network are the starting point; ``df`` must hold its feature columns. Every layer
            is copied and fine-tuned; the output layer too when the classes are the same (or for
            regression), else it starts afresh. ``config``'s network shape is the source's.

    Returns:
        The trained model with validation metrics at the best epoch and held-out test metrics.
    """
    if target not in df.columns:
        raise DataError(f"target column {target!r} is not in the data set", field="target")
    started = time.perf_counter()
    torch.manual_seed(config.seed if config.bagging_seed is None else config.bagging_seed)
    keep = df[target].notna().to_numpy()
    df = df[keep].reset_index(drop=True)
    if holdout is not None:
        holdout = np.asarray(holdout, dtype=bool)[keep]
    task = task or infer_task(df[target])
    if warm_start is not None:
        config = _source_shape(config, warm_start, df, task)
    config = config.for_task(task.is_classification)
    specs = [c for c in (columns or infer_schema(df, target)) if c.name != target]
    if not any(not c.excluded for c in specs):
        raise DataError("no usable feature columns besides the target", field="target")
    split = split_rows(df[target], task, config, holdout)
    if warm_start is not None:
        pre = warm_start.preprocessor  # the source's inputs, so its first layer still means the same
    else:
        pre = TabularPreprocessor(columns=specs, scaling=config.numeric_scaling).fit(df.iloc[split.train])
    # The label set is the whole column's (no feature information); a regression target's
    # scale is the training split's.
    encoder = TargetEncoder(task).fit(df[target] if task.is_classification else df[target].iloc[split.train])
    x_num, x_cat = pre.transform(df)
    y = encoder.transform(df[target])
    fit_rows = split.train
    if config.bagging_seed is not None and config.bagging == "bootstrap":
        fit_rows = bootstrap_rows(split.train, config.bagging_seed)
    data = {
        name: TensorData.from_numpy(x_num[rows], x_cat[rows], y[rows])
        for name, rows in (("train", fit_rows), ("val", split.val), ("test", split.test))
    }
    if teacher is not None:
        data["train"].y = torch.from_numpy(_soft_targets(teacher(df.iloc[fit_rows]), y[fit_rows], encoder))
    for cb in callbacks:
        cb.on_train_start(
            {
                "rows": len(df),
                "task": str(task),
                "features": len(pre.features),
                "split": split.describe(config),
                "config": config.to_dict(),
            }
        )
    arch = {
        "n_numeric": pre.n_numeric,
        "cardinalities": pre.cardinalities,
        "hidden_sizes": config.hidden_sizes,
        "n_outputs": encoder.n_outputs,
        "dropout": config.dropout,
        "residual": config.residual,
        "norm": config.norm,
    }
    if config.architecture == "tabm" and param_budget is not None:
        # A distilled student is always an MLP: the budget sizes its hidden layers.
        config = replace(config, architecture="mlp", norm=config.norm or "none")
    elif config.architecture == "tabm" and warm_start is not None:
        # The source's bin edges too, so that its numeric embeddings still mean the same.
        arch = {**warm_start.meta["architecture"], "n_outputs": encoder.n_outputs}
    elif config.architecture == "tabm":
        arch = tabm_architecture(pre, encoder.n_outputs, config, x_num[split.train])
    if param_budget is not None:
        sizes = hidden_sizes_for_budget(arch, param_budget)
        if sizes is None:
            raise DataError(
                f"no network for these {pre.n_numeric} inputs fits in {param_budget} parameters", field="target_params"
            )
        config = replace(config, hidden_sizes=sizes, residual=False)
        arch.update(hidden_sizes=sizes, residual=False)
    network = build_network(arch)
    transfer = None
    if warm_start is not None:
        transfer = _copy_weights(warm_start, network, encoder)
        for cb in callbacks:
            cb.on_log(
                "info",
                f"transfer: {transfer['tensors']} tensors ({transfer['parameters']:,} parameters) copied from the"
                f" source network; output layer {transfer['head']}",
            )
    # A bagged member's batch order follows its own seed too (the split stays on ``seed``).
    run_config = config if config.bagging_seed is None else replace(config, seed=config.bagging_seed)
    trainer = Trainer(run_config, task, callbacks, checkpoint_dir, (encoder.mean_, encoder.std_))
    if config.parallel:
        fit = fit_parallel(trainer, network, arch, data["train"], data["val"])
    else:
        fit = trainer.fit(network, data["train"], data["val"])
    network.to("cpu")
    trained = TrainedModel(network, pre, target, encoder, config, fit, split.describe(config), transfer=transfer)
    trained.tabm_arch = arch if arch.get("type") == "TabM" else None
    trained.frames = {
        name: df.iloc[rows] for name, rows in (("train", split.train), ("val", split.val), ("test", split.test))
    }
    best = fit.history[fit.best_epoch - 1] if fit.best_epoch else fit.history[-1]
    trained.metrics = {k: v for k, v in best.items() if k.startswith("val_") or k == "train_loss"}
    if len(split.test):
        trained.test_metrics, trained.confusion_matrix = _test_metrics(trainer, network, data["test"], task, encoder)
    trained.training_time_s = time.perf_counter() - started
    return trained


def bootstrap_rows(rows: np.ndarray, seed: int) -> np.ndarray:
    """A bootstrap sample of ``rows`` (as many, drawn with replacement) for bagging, sorted."""
    return np.sort(np.random.default_rng(seed).choice(rows, size=len(rows), replace=True))


def tabm_architecture(pre: TabularPreprocessor, n_outputs: int, config: TrainConfig, x_train: np.ndarray) -> dict:
    """A TabM architecture dict: the scaled numerics of the fitted preprocessing get numeric
    embeddings (bin edges from the training rows); indicators, text and tags enter as they are."""
    scaled, position = [], 0
    for num in pre.numeric_:
        scaled.append(position)
        position += 1 + int(num["indicator"])
    if config.num_embeddings == "piecewise":
        embedded, bins = numeric_bins(x_train, scaled)
    else:
        embedded, bins = (scaled if config.num_embeddings == "periodic" else []), []
    return {
        "type": "TabM",
        "n_numeric": pre.n_numeric,
        "cardinalities": pre.cardinalities,
        "n_outputs": n_outputs,
        "embedded": embedded,
        "bins": bins,
        "num_embeddings": config.num_embeddings,
        "k": config.tabm_k,
        "d_block": max(config.hidden_sizes),
        "n_blocks": len(config.hidden_sizes),
        "d_embedding": config.num_embedding_dim,
        "dropout": config.dropout,
    }


def check_transfer(source: TabularPredictor, columns, task: TaskKind) -> None:
    """Refuse a transfer of ``source`` to data with these column names and this task: the same
    kind of task (classification or regression) and every feature column of the source."""
    source_task = source.encoder.task
    if source_task.is_classification != task.is_classification:
        raise DataError(f"the source model does {source_task}, this data set's target is {task}", field="target_domain")
    present = set(columns)
    missing = [name for name in source.feature_names if name not in present]
    if missing:
        raise DataError(
            f"the data set lacks the source model's feature column(s): {', '.join(missing)}", field="target_domain"
        )


def _source_shape(config: TrainConfig, source: TabularPredictor, df: pd.DataFrame, task: TaskKind) -> TrainConfig:
    """``config`` with the source network's shape; refuses data the source cannot read."""
    check_transfer(source, df.columns, task)
    arch = source.meta["architecture"]
    if arch.get("type") == "TabM":
        return replace(
            config,
            architecture="tabm",
            hidden_sizes=[arch["d_block"]] * arch["n_blocks"],
            num_embeddings=arch["num_embeddings"],
            num_embedding_dim=arch["d_embedding"],
            tabm_k=arch["k"],
            dropout=arch["dropout"],
            numeric_scaling=source.preprocessor.scaling,
        )
    return replace(
        config,
        architecture="mlp",
        hidden_sizes=list(arch["hidden_sizes"]),
        dropout=arch["dropout"],
        residual=arch.get("residual", False),
        norm=arch.get("norm", "batch"),
        numeric_scaling=source.preprocessor.scaling,
    )


def _copy_weights(source: TabularPredictor, network: TabularMLP, encoder: TargetEncoder) -> dict:
    """Load the source's weights into ``network``; the output layer only when its outputs mean the
    same (the same classes in the same order, or regression). Returns what was carried over."""
    same_head = not encoder.task.is_classification or list(map(str, encoder.classes_)) == list(
        map(str, source.encoder.classes_)
    )
    head = "output." if isinstance(source.network, TabMNetwork) else "head."
    state = {k: v for k, v in source.network.state_dict().items() if same_head or not k.startswith(head)}
    network.load_state_dict(state, strict=False)
    tensors = [k for k in state if not k.endswith("num_batches_tracked")]
    learned = {name for name, _ in source.network.named_parameters()}
    return {
        "tensors": len(tensors),
        "parameters": sum(state[k].numel() for k in tensors if k in learned),
        "head": "kept" if same_head else "new (the classes differ)",
    }


def _soft_targets(taught: np.ndarray, y: np.ndarray, encoder: TargetEncoder) -> np.ndarray:
    """Half truth, half teacher: probabilities for classification, standardised values otherwise."""
    if encoder.task.is_classification:
        onehot = np.eye(encoder.n_outputs, dtype=np.float32)[y]
        return (0.5 * onehot + 0.5 * taught.astype(np.float32)).astype(np.float32)
    taught_z = (np.asarray(taught, dtype=np.float64) - encoder.mean_) / encoder.std_
    return (0.5 * y + 0.5 * taught_z).astype(np.float32)


def _test_metrics(trainer: Trainer, network, test: TensorData, task: TaskKind, encoder: TargetEncoder):
    out = trainer.predict_raw(network, test)
    if task.is_classification:
        proba = torch.softmax(out, dim=1).numpy()
        y = test.y.numpy()
        return classification_metrics(y, proba), confusion(y, proba.argmax(axis=1), encoder.n_outputs)
    truth = encoder.inverse_regression(test.y.numpy())
    pred = encoder.inverse_regression(out.squeeze(-1).numpy())
    return regression_metrics(truth, pred), None
