"""Cross-validation: which rows each fold holds out, one fold trained and scored, and the figures
over all folds (mean, standard deviation, a t-interval).

Every fold trains through ``pipeline.train_tabular`` on its training rows only, so the
preprocessing (scaling quantiles, category vocabularies, the target's label set and scale) is
fitted on those rows and nothing of the held-out fold reaches the model; the held-out rows are
then scored by the one scorer, ``scoring.score_frame``, and their predictions kept (out-of-fold).
"""

from __future__ import annotations

import math
import time
from collections.abc import Sequence
from dataclasses import dataclass, field, replace

import numpy as np
import pandas as pd
from scipy import stats
from sklearn.model_selection import GroupKFold, KFold, StratifiedGroupKFold, StratifiedKFold, TimeSeriesSplit

from neural.engine.callbacks import Callback
from neural.engine.config import TrainConfig
from neural.engine.errors import DataError
from neural.engine.pipeline import MIN_ROWS, train_tabular
from neural.engine.predictor import TabularPredictor
from neural.engine.schema import ColumnSpec, TaskKind
from neural.engine.scoring import score_frame

MAX_FOLDS = 20
CONFIDENCE = 0.95
METHODS = ("kfold", "stratified", "group", "stratified_group", "time")


@dataclass(frozen=True)
class FoldPlan:
    """How rows are divided into folds; with the data it always gives the same folds."""

    folds: int = 5
    stratified: bool = False
    group_column: str | None = None
    time_column: str | None = None
    seed: int = 42

    @property
    def method(self) -> str:
        if self.time_column:
            return "time"
        if self.group_column:
            return "stratified_group" if self.stratified else "group"
        return "stratified" if self.stratified else "kfold"

    def to_dict(self) -> dict:
        return {
            "method": self.method,
            "folds": self.folds,
            "stratified": self.stratified,
            "group_column": self.group_column,
            "time_column": self.time_column,
            "seed": self.seed,
        }


def labelled(df: pd.DataFrame, target: str) -> pd.DataFrame:
    """The rows with a target value, keeping their positions in ``df`` as the index (the row
    numbers of the out-of-fold predictions)."""
    if target not in df.columns:
        raise DataError(f"target column {target!r} is not in the data set", field="target")
    frame = df.reset_index(drop=True)
    return frame[frame[target].notna()]


def fold_indices(df: pd.DataFrame, target: str, task: TaskKind, plan: FoldPlan) -> list[tuple[np.ndarray, np.ndarray]]:
    """(training positions, held-out positions) of each fold, positions into ``df`` (already
    limited to labelled rows, see ``labelled``).

    k-fold and stratified k-fold shuffle with the seed; grouped folds keep each value of
    ``group_column`` in one fold; time folds are forward-chaining (scikit-learn's
    ``TimeSeriesSplit`` over the rows sorted by ``time_column``): each fold trains on the rows
    before its held-out block, so the first block is never held out.

    Raises:
        DataError: naming ``folds``, ``stratified``, ``group_column`` or ``time_column``.
    """
    _check_plan(df, target, task, plan)
    n = len(df)
    positions = np.arange(n)
    y = df[target].astype(str).to_numpy() if task.is_classification else None
    if plan.time_column:
        order = np.argsort(_time_values(df, plan.time_column), kind="stable")
        splits = [(order[a], order[b]) for a, b in TimeSeriesSplit(n_splits=plan.folds).split(positions)]
    elif plan.group_column:
        groups = df[plan.group_column].astype(str).to_numpy()
        if plan.stratified:
            splitter = StratifiedGroupKFold(n_splits=plan.folds, shuffle=True, random_state=plan.seed)
            splits = list(splitter.split(positions, y, groups))
        else:
            splits = list(GroupKFold(n_splits=plan.folds).split(positions, groups=groups))
    elif plan.stratified:
        splits = list(StratifiedKFold(n_splits=plan.folds, shuffle=True, random_state=plan.seed).split(positions, y))
    else:
        splits = list(KFold(n_splits=plan.folds, shuffle=True, random_state=plan.seed).split(positions))
    short = min(len(train) for train, _ in splits)
    if short < MIN_ROWS:
        raise DataError(
            f"{plan.folds} folds leave a fold with {short} training rows; at least {MIN_ROWS} are needed "
            "(ask for fewer folds)",
            field="folds",
        )
    return [(np.sort(train), np.sort(held)) for train, held in splits]


def _check_plan(df: pd.DataFrame, target: str, task: TaskKind, plan: FoldPlan) -> None:
    k = plan.folds
    if not isinstance(k, int) or isinstance(k, bool) or not 2 <= k <= MAX_FOLDS:
        raise DataError(f"folds must be a whole number from 2 to {MAX_FOLDS}, got {k!r}", field="folds")
    if plan.time_column and (plan.group_column or plan.stratified):
        other = "group_column" if plan.group_column else "stratified"
        raise DataError(f"time folds run forward in time; they cannot also use {other}", field=other)
    for name, column in (("group_column", plan.group_column), ("time_column", plan.time_column)):
        if column is not None and (column not in df.columns or column == target):
            what = "the target" if column == target else "not a column of the data set"
            raise DataError(f"{name} {column!r} is {what}", field=name)
    if plan.stratified and not task.is_classification:
        raise DataError(f"stratified folds need classes; this data set's target is {task}", field="stratified")
    n = len(df)
    if k > n:
        raise DataError(f"{k} folds is more than the {n} labelled rows", field="folds")
    if plan.stratified:
        counts = df[target].astype(str).value_counts()
        if counts.min() < k:
            raise DataError(
                f"{k} stratified folds need at least {k} rows of every class; class {counts.idxmin()!r} has "
                f"{counts.min()}",
                field="folds",
            )
    if plan.group_column:
        n_groups = df[plan.group_column].astype(str).nunique()
        if n_groups < k:
            raise DataError(
                f"{k} grouped folds need at least {k} groups; {plan.group_column!r} has {n_groups}", field="folds"
            )


def _time_values(df: pd.DataFrame, column: str) -> np.ndarray:
    """Sortable values of the time column: numbers as they are, else parsed dates."""
    col = df[column]
    if pd.api.types.is_numeric_dtype(col) and not pd.api.types.is_bool_dtype(col):
        values = col.to_numpy(dtype=float)
    else:
        stamps = pd.to_datetime(col, errors="coerce", utc=True, format="mixed")
        values = stamps.astype("int64").to_numpy(dtype=float)
        values[stamps.isna().to_numpy()] = np.nan
    missing = int(np.isnan(values).sum())
    if missing:
        raise DataError(
            f"time_column {column!r} has {missing} row(s) without a time (or not a date/number); time folds need "
            "every row's time",
            field="time_column",
        )
    return values


@dataclass
class FoldResult:
    """One trained and scored fold."""

    metrics: dict[str, float]
    train_rows: int
    test_rows: int
    best_epoch: int
    epochs_run: int
    seconds: float
    # Out-of-fold predictions, columnar: ``row`` (the labelled frame's index, i.e. row numbers
    # of the data set), ``truth``, ``prediction`` and, for classes, ``probabilities`` (one list
    # per row, in ``classes`` order).
    predictions: dict = field(default_factory=dict)
    # The preprocessing fitted on this fold's training rows (``TabularPreprocessor.to_dict``).
    preprocessing: dict = field(default_factory=dict, repr=False)


def run_fold(
    df: pd.DataFrame,
    target: str,
    train: np.ndarray,
    held_out: np.ndarray,
    *,
    config: TrainConfig,
    columns: list[ColumnSpec] | None = None,
    task: TaskKind | None = None,
    callbacks: Sequence[Callback] = (),
) -> FoldResult:
    """Train on the rows ``train`` (positions into ``df``) and score the rows ``held_out``.

    The training rows are split once more into training and validation rows (the config's
    ``validation_split``, for early stopping); no test rows are drawn (``test_split`` 0): the
    held-out fold is the test.
    """
    started = time.perf_counter()
    fold_config = replace(config, test_split=0.0)
    trained = train_tabular(
        df.iloc[train].reset_index(drop=True),
        target,
        config=fold_config,
        columns=columns,
        task=task,
        callbacks=callbacks,
    )
    predictor = TabularPredictor(trained.network, trained.preprocessor, trained.encoder, trained.meta())
    held = df.iloc[held_out]
    metrics = score_frame(predictor, held, target)
    results = predictor.predict_frame(held[predictor.feature_names])
    predictions: dict = {
        "row": [int(i) for i in held.index],
        "truth": [_plain(v) for v in held[target].tolist()],
        "prediction": [_plain(r["prediction"]) for r in results],
    }
    if "probabilities" in results[0]:
        classes = [str(c) for c in trained.encoder.classes_]
        predictions["classes"] = classes
        predictions["probabilities"] = [[r["probabilities"][c] for c in classes] for r in results]
    return FoldResult(
        metrics=metrics,
        train_rows=len(train),
        test_rows=len(held_out),
        best_epoch=trained.fit.best_epoch,
        epochs_run=len(trained.fit.history),
        seconds=round(time.perf_counter() - started, 3),
        predictions=predictions,
        preprocessing=trained.preprocessor.to_dict(),
    )


def _plain(value: object) -> object:
    """A numpy scalar as the Python value JSON can hold."""
    return value.item() if isinstance(value, np.generic) else value


def summarize(fold_metrics: Sequence[dict[str, float]], confidence: float = CONFIDENCE) -> dict[str, dict]:
    """Per figure measured on every fold: the fold values, their mean, sample standard deviation
    and a ``confidence`` interval for the mean from Student's t over the folds (n - 1 degrees of
    freedom). The interval says how much the mean would move with other folds of the same size;
    folds share training rows, so it is somewhat too narrow, as every k-fold interval is."""
    if not fold_metrics:
        return {}
    keys = [k for k in fold_metrics[0] if all(k in m for m in fold_metrics)]
    out = {}
    for key in keys:
        values = np.array([float(m[key]) for m in fold_metrics])
        n = len(values)
        mean = float(values.mean())
        sd = float(values.std(ddof=1)) if n > 1 else 0.0
        if n > 1 and sd > 0:
            low, high = stats.t.interval(confidence, df=n - 1, loc=mean, scale=sd / math.sqrt(n))
        else:
            low = high = mean
        out[key] = {
            "values": values.tolist(),
            "mean": mean,
            "sd": sd,
            "ci_low": float(low),
            "ci_high": float(high),
            "confidence": confidence,
        }
    return out
