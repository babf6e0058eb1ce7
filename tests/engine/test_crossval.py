"""Cross-validation folds, one fold's training and scoring, and the summary over folds."""

from __future__ import annotations

import numpy as np
import pandas as pd
import pytest
from scipy import stats

from neural.engine.config import TrainConfig
from neural.engine.crossval import FoldPlan, fold_indices, labelled, run_fold, summarize
from neural.engine.errors import DataError
from neural.engine.schema import TaskKind


def _frame(n: int = 200, seed: int = 0) -> pd.DataFrame:
    rng = np.random.default_rng(seed)
    x = rng.normal(size=n)
    # Imbalanced classes (about 80/20), 12 sites, a timestamp per row in shuffled order.
    y = np.where(x + rng.normal(scale=0.3, size=n) > 0.85, "rare", "common")
    stamps = pd.Timestamp("2026-01-01", tz="UTC") + pd.to_timedelta(rng.permutation(n), unit="h")
    return pd.DataFrame(
        {
            "x": x,
            "site": [f"s{i % 12}" for i in rng.permutation(n)],
            "at": stamps.strftime("%Y-%m-%dT%H:%M:%SZ"),
            "y": y,
        }
    )


def _check_partition(splits, n: int) -> None:
    held = np.concatenate([h for _, h in splits])
    assert sorted(held.tolist()) == list(range(n))  # every row held out exactly once
    for train, h in splits:
        assert not set(train) & set(h)
        assert len(train) + len(h) == n


def test_it_holds_out_every_row_exactly_once_and_never_trains_on_it():
    df = _frame()
    splits = fold_indices(df, "y", TaskKind.BINARY, FoldPlan(folds=5))
    assert len(splits) == 5
    _check_partition(splits, len(df))


def test_the_same_seed_gives_the_same_folds_and_another_seed_others():
    df = _frame()
    first = fold_indices(df, "y", TaskKind.BINARY, FoldPlan(folds=4, seed=1))
    again = fold_indices(df, "y", TaskKind.BINARY, FoldPlan(folds=4, seed=1))
    other = fold_indices(df, "y", TaskKind.BINARY, FoldPlan(folds=4, seed=2))
    assert all(np.array_equal(a[1], b[1]) for a, b in zip(first, again, strict=True))
    assert not all(np.array_equal(a[1], b[1]) for a, b in zip(first, other, strict=True))


def test_stratified_folds_keep_the_class_shares_of_the_whole():
    df = _frame(n=250)
    rare = (df["y"] == "rare").to_numpy()
    splits = fold_indices(df, "y", TaskKind.BINARY, FoldPlan(folds=5, stratified=True))
    _check_partition(splits, len(df))
    counts = [int(rare[h].sum()) for _, h in splits]
    assert max(counts) - min(counts) <= 1, counts  # each fold within one row of an equal share
    assert sum(counts) == rare.sum()


def test_grouped_folds_never_split_a_group():
    df = _frame()
    splits = fold_indices(df, "y", TaskKind.BINARY, FoldPlan(folds=4, group_column="site"))
    _check_partition(splits, len(df))
    for train, held in splits:
        assert not set(df["site"].iloc[train]) & set(df["site"].iloc[held])
    per_fold = [set(df["site"].iloc[h]) for _, h in splits]
    assert sum(len(s) for s in per_fold) == 12


def test_stratified_grouped_folds_keep_groups_whole_too():
    df = _frame()
    splits = fold_indices(df, "y", TaskKind.BINARY, FoldPlan(folds=3, stratified=True, group_column="site"))
    for train, held in splits:
        assert not set(df["site"].iloc[train]) & set(df["site"].iloc[held])


def test_time_folds_train_only_on_rows_before_the_held_out_block():
    df = _frame()
    stamps = pd.to_datetime(df["at"], utc=True)
    splits = fold_indices(df, "y", TaskKind.BINARY, FoldPlan(folds=4, time_column="at"))
    assert len(splits) == 4
    previous_end = None
    for train, held in splits:
        assert stamps.iloc[train].max() < stamps.iloc[held].min()
        if previous_end is not None:
            assert stamps.iloc[held].min() > previous_end  # the blocks move forward
        previous_end = stamps.iloc[held].max()
    # The earliest block only ever trains: forward chaining holds out the later rows.
    held = np.concatenate([h for _, h in splits])
    assert len(set(held)) == len(held) < len(df)
    assert stamps.iloc[held].min() > stamps.min()


@pytest.mark.parametrize(
    ("plan", "task", "field", "words"),
    [
        (FoldPlan(folds=1), TaskKind.BINARY, "folds", "from 2 to"),
        (FoldPlan(folds=30), TaskKind.BINARY, "folds", "from 2 to"),
        (FoldPlan(folds=5, stratified=True), TaskKind.REGRESSION, "stratified", "need classes"),
        (FoldPlan(folds=5, group_column="nope"), TaskKind.BINARY, "group_column", "not a column"),
        (FoldPlan(folds=5, time_column="nope"), TaskKind.BINARY, "time_column", "not a column"),
        (FoldPlan(folds=5, time_column="x", group_column="site"), TaskKind.BINARY, "group_column", "forward"),
        (FoldPlan(folds=13, group_column="site"), TaskKind.BINARY, "folds", "has 12"),
        (FoldPlan(folds=5, group_column="y"), TaskKind.BINARY, "group_column", "the target"),
        (FoldPlan(folds=5, time_column="site"), TaskKind.BINARY, "time_column", "without a time"),
    ],
)
def test_a_plan_the_data_cannot_take_is_refused_naming_the_field(plan, task, field, words):
    df = _frame()
    with pytest.raises(DataError) as err:
        fold_indices(df, "y", task, plan)
    assert err.value.field == field and words in err.value.message


def test_more_stratified_folds_than_rows_of_the_smallest_class_are_refused():
    df = _frame(n=60)
    smallest = int(df["y"].value_counts().min())
    with pytest.raises(DataError, match=f"has {smallest}") as err:
        fold_indices(df, "y", TaskKind.BINARY, FoldPlan(folds=smallest + 1, stratified=True))
    assert err.value.field == "folds"


def test_more_folds_than_rows_or_too_few_training_rows_are_refused():
    df = _frame(n=16)
    with pytest.raises(DataError, match="more than the 16") as err:
        fold_indices(df, "y", TaskKind.BINARY, FoldPlan(folds=18))
    assert err.value.field == "folds"
    df = _frame(n=24)
    with pytest.raises(DataError, match="training rows") as err:
        fold_indices(df, "y", TaskKind.BINARY, FoldPlan(folds=4, time_column="at"))
    assert err.value.field == "folds"


def test_labelled_drops_rows_without_a_target_and_keeps_row_numbers():
    df = _frame(n=30).astype({"y": object})
    df.loc[[3, 7], "y"] = None
    kept = labelled(df, "y")
    assert len(kept) == 28 and 3 not in kept.index and kept.index[-1] == 29


def test_a_fold_fits_its_preprocessing_on_its_own_training_rows_and_scores_the_held_out_rows():
    df = _frame(n=240)
    splits = fold_indices(df, "y", TaskKind.BINARY, FoldPlan(folds=3, group_column="site"))
    train, held = splits[0]
    fold = run_fold(df, "y", train, held, config=TrainConfig(epochs=3, seed=0), task=TaskKind.BINARY)
    vocab = next(c["vocab"] for c in fold.preprocessing["categorical"] if c["name"] == "site")
    assert set(vocab) == set(df["site"].iloc[train])  # the held-out sites are unknown to the fold
    assert not set(vocab) & set(df["site"].iloc[held])
    quantiles = next(n["quantiles"] for n in fold.preprocessing["numeric"] if n["column"] == "x")
    assert quantiles[-1] <= df["x"].iloc[train].max()  # fitted on training rows only
    assert fold.train_rows == len(train) and fold.test_rows == len(held)
    assert fold.predictions["row"] == held.tolist()
    assert fold.predictions["classes"] == ["common", "rare"]
    probs = np.array(fold.predictions["probabilities"])
    truth = (df["y"].iloc[held] == "rare").to_numpy()
    predicted = np.array(fold.predictions["prediction"]) == "rare"
    assert np.allclose(probs.sum(axis=1), 1, atol=1e-5)
    assert fold.metrics["accuracy"] == pytest.approx((predicted == truth).mean())
    assert 0 <= fold.metrics["roc_auc"] <= 1 and fold.epochs_run >= 1


def test_a_regression_fold_keeps_values_in_the_targets_units():
    rng = np.random.default_rng(1)
    x = rng.normal(size=120)
    df = pd.DataFrame({"x": x, "y": 1000 + 50 * x})
    (train, held), *_ = fold_indices(df, "y", TaskKind.REGRESSION, FoldPlan(folds=4))
    fold = run_fold(df, "y", train, held, config=TrainConfig(epochs=20, seed=0), task=TaskKind.REGRESSION)
    assert set(fold.metrics) == {"r2", "mae"} and "probabilities" not in fold.predictions
    assert 800 < np.mean(fold.predictions["prediction"]) < 1200


def test_the_summary_is_the_mean_sd_and_a_t_interval_over_folds():
    folds = [{"accuracy": a, "roc_auc": 0.9} for a in (0.70, 0.74, 0.78, 0.72, 0.76)]
    got = summarize(folds)
    acc = got["accuracy"]
    assert acc["mean"] == pytest.approx(0.74)
    assert acc["sd"] == pytest.approx(np.std([0.7, 0.74, 0.78, 0.72, 0.76], ddof=1))
    half = stats.t.ppf(0.975, df=4) * acc["sd"] / np.sqrt(5)
    assert acc["ci_low"] == pytest.approx(0.74 - half) and acc["ci_high"] == pytest.approx(0.74 + half)
    assert got["roc_auc"]["sd"] == 0 and got["roc_auc"]["ci_low"] == got["roc_auc"]["ci_high"] == 0.9
    assert summarize([{"accuracy": 0.5}, {"r2": 0.1}]) == {}  # only figures every fold measured
