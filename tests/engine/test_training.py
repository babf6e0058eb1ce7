from __future__ import annotations

import json

import numpy as np
import pandas as pd
import pytest
import torch

from neural.engine.callbacks import Callback
from neural.engine.config import TrainConfig
from neural.engine.errors import DataError, StopTraining
from neural.engine.pipeline import train_tabular
from neural.engine.presets import preset_options


def learnable_frame(n: int = 600, seed: int = 0) -> pd.DataFrame:
    rng = np.random.default_rng(seed)
    x1, x2 = rng.normal(size=n), rng.normal(size=n)
    colour = rng.choice(["red", "green", "blue"], n)
    label = (x1 + 0.5 * x2 + (colour == "red") * 1.5 > 0.3).astype(int)
    return pd.DataFrame({"x1": x1, "x2": x2, "colour": colour, "label": label})


class Recorder(Callback):
    def __init__(self, stop_after: int | None = None) -> None:
        self.epochs: list[dict] = []
        self.stop_after = stop_after

    def on_epoch_end(self, state) -> None:
        self.epochs.append(state.to_dict())

    def should_stop(self) -> bool:
        return self.stop_after is not None and len(self.epochs) >= self.stop_after


def test_it_reduces_the_loss_on_a_learnable_problem():
    rec = Recorder()
    trained = train_tabular(
        learnable_frame(), "label", config=TrainConfig(epochs=15, early_stopping=False), callbacks=[rec]
    )
    losses = [e["train_loss"] for e in rec.epochs]
    assert losses[-1] < 0.6 * losses[0]
    assert trained.test_metrics["accuracy"] > 0.85


def test_it_gives_the_same_metrics_for_the_same_seed():
    a = train_tabular(learnable_frame(), "label", config=TrainConfig(epochs=5, seed=11))
    b = train_tabular(learnable_frame(), "label", config=TrainConfig(epochs=5, seed=11))
    assert a.metrics == b.metrics
    assert a.test_metrics == b.test_metrics


def test_it_stops_within_one_batch_when_asked():
    rec = Recorder(stop_after=2)
    with pytest.raises(StopTraining):
        train_tabular(learnable_frame(), "label", config=TrainConfig(epochs=20), callbacks=[rec])
    assert len(rec.epochs) == 2


def test_it_reports_every_batch_to_a_callback_that_listens():
    class Batches(Callback):
        def __init__(self) -> None:
            self.seen: list[tuple[int, int, int, int, float]] = []

        def on_batch_end(self, state) -> None:
            self.seen.append((state.epoch, state.step, state.steps, state.global_step, float(state.loss)))

    rec = Batches()
    train_tabular(
        learnable_frame(), "label", config=TrainConfig(epochs=2, batch_size=64, early_stopping=False), callbacks=[rec]
    )
    steps = rec.seen[0][2]
    assert steps > 1 and [s[3] for s in rec.seen] == list(range(1, 2 * steps + 1))
    assert [(s[0], s[1]) for s in rec.seen[steps - 1 : steps + 1]] == [(1, steps), (2, 1)]
    assert all(np.isfinite(s[4]) and s[4] > 0 for s in rec.seen)


@pytest.mark.parametrize(
    ("options", "tolerance"),
    [
        ({}, 1e-4),
        # GPU kernels are not bit-reproducible run to run: the resumed run lands where a straight
        # one does; the loss scale of mixed precision is restored with the checkpoint.
        pytest.param(
            {"gpu": True, "mixed_precision": True},
            0.05,
            marks=pytest.mark.skipif(not torch.cuda.is_available(), reason="needs a CUDA GPU"),
            id="gpu",
        ),
    ],
)
def test_it_resumes_from_the_last_checkpoint(tmp_path, options, tolerance):
    df, config = learnable_frame(), TrainConfig(epochs=6, early_stopping=False, **options)
    with pytest.raises(StopTraining):
        train_tabular(df, "label", config=config, callbacks=[Recorder(stop_after=3)], checkpoint_dir=tmp_path)
    resumed = train_tabular(df, "label", config=config, checkpoint_dir=tmp_path)
    straight = train_tabular(df, "label", config=config)
    assert resumed.fit.resumed_from == 3
    assert len(resumed.fit.history) == 6
    assert resumed.fit.history[-1]["val_loss"] == pytest.approx(straight.fit.history[-1]["val_loss"], rel=tolerance)


def test_each_epoch_reaches_the_callbacks_before_its_checkpoint(tmp_path):
    """A process killed between the two resumes from the epoch before and repeats this one: the
    epoch a callback recorded (a database row) is never the one a resume skips."""
    seen: list[tuple[int, int | None]] = []

    class CheckpointWatcher(Callback):
        def on_epoch_end(self, state) -> None:
            saved = tmp_path / "checkpoint.json"
            seen.append((state.epoch, json.loads(saved.read_text())["epoch"] if saved.exists() else None))

    config = TrainConfig(epochs=3, early_stopping=False)
    train_tabular(learnable_frame(), "label", config=config, callbacks=[CheckpointWatcher()], checkpoint_dir=tmp_path)
    assert seen == [(1, None), (2, 1), (3, 2)]


def test_it_regresses_a_continuous_target():
    df = learnable_frame()
    df["y"] = df["x1"] * 3 + df["x2"] + np.random.default_rng(1).normal(scale=0.1, size=len(df))
    trained = train_tabular(df.drop(columns="label"), "y", config=TrainConfig(epochs=30))
    assert trained.encoder.task == "regression"
    assert trained.test_metrics["r2"] > 0.8


def test_it_refuses_a_missing_target():
    with pytest.raises(DataError) as err:
        train_tabular(learnable_frame(), "nope", config=TrainConfig(epochs=1))
    assert err.value.field == "target"


def test_it_refuses_a_data_set_too_small_to_split():
    with pytest.raises(DataError, match="at least"):
        train_tabular(learnable_frame(n=10), "label", config=TrainConfig(epochs=1))


@pytest.mark.parametrize(
    ("option", "value"),
    [
        ("epochs", 0),
        ("learning_rate", -1),
        ("validation_split", 1.5),
        ("dropout", "high"),
        pytest.param("gpu", True, marks=pytest.mark.skipif(torch.cuda.is_available(), reason="this machine has a GPU")),
    ],
)
def test_it_refuses_bad_options(option, value):
    with pytest.raises(DataError) as err:
        TrainConfig.from_dict({option: value})
    assert err.value.field == option


def test_it_refuses_unknown_options():
    with pytest.raises(DataError, match="lerning_rate"):
        TrainConfig.from_dict({"lerning_rate": 0.1})


def test_options_left_unset_take_the_tasks_defaults_and_set_ones_are_kept():
    mlp = TrainConfig(epochs=1, architecture="mlp")
    assert mlp.hidden_sizes == [256, 128]
    classified = train_tabular(learnable_frame(), "label", config=mlp)
    assert (classified.config.norm, classified.config.dropout) == ("layer", 0.3)
    assert classified.architecture()["norm"] == "layer"
    df = learnable_frame().drop(columns="label")
    df["y"] = df["x1"] * 2
    regressed = train_tabular(df, "y", config=TrainConfig(epochs=1, dropout=0.2, architecture="mlp"))
    assert (regressed.config.norm, regressed.config.dropout) == ("batch", 0.2)
    tabm = train_tabular(learnable_frame(), "label", config=TrainConfig(epochs=1))  # the default: TabM
    assert (tabm.config.norm, tabm.config.dropout, tabm.config.hidden_sizes) == ("none", 0.0, [64, 64])
    assert tabm.architecture()["type"] == "TabM"


def test_the_default_without_a_preset_is_the_default_preset():
    default = TrainConfig().for_task(True).to_dict()
    assert {k: default[k] for k in preset_options("default")} == preset_options("default")


def test_given_test_rows_are_the_test_split_and_the_rest_is_divided():
    df = learnable_frame()
    holdout = np.zeros(len(df), dtype=bool)
    holdout[-100:] = True  # e.g. the latest rows of a time split
    df.loc[5, "label"] = None  # a row without a target is dropped, with its holdout flag
    trained = train_tabular(df, "label", config=TrainConfig(epochs=2), holdout=holdout)
    test = trained.frames["test"]
    assert len(test) == 100 and test.index.min() == len(df) - 101  # positions after dropping row 5
    assert trained.split["test_rows_from"] == "data set split"
    assert trained.split["val_rows"] == round(0.2 * 499)
    assert trained.split["train_rows"] + trained.split["val_rows"] == 499
    train_val = set(trained.frames["train"].index) | set(trained.frames["val"].index)
    assert not train_val & set(test.index)


def _as_predictor(trained):
    from neural.engine.predictor import TabularPredictor

    return TabularPredictor(trained.network, trained.preprocessor, trained.encoder, trained.meta())


@pytest.mark.parametrize("architecture", ["mlp", "tabm"])
def test_a_warm_start_copies_the_source_network_and_keeps_its_inputs(architecture):
    config = TrainConfig(epochs=5, architecture=architecture)
    source = _as_predictor(train_tabular(learnable_frame(), "label", config=config))
    target = learnable_frame(n=300, seed=7)
    # A learning rate that moves nothing: the fine-tuned network predicts what the source does.
    other = "tabm" if architecture == "mlp" else "mlp"
    still = train_tabular(
        target,
        "label",
        config=TrainConfig(epochs=1, learning_rate=1e-9, hidden_sizes=[8], architecture=other),
        warm_start=source,
    )
    shape = {k: v for k, v in source.meta["architecture"].items() if k != "parameters"}
    assert {k: still.architecture()[k] for k in shape} == shape  # the source's shape (and bins) win
    assert still.preprocessor is source.preprocessor and still.transfer["head"] == "kept"
    assert still.transfer["parameters"] == source.meta["architecture"]["parameters"]
    before = np.array([r["probabilities"]["1"] for r in source.predict_frame(target)])
    after = np.array([r["probabilities"]["1"] for r in _as_predictor(still).predict_frame(target)])
    assert np.abs(before - after).max() < 1e-4
    assert still.meta()["transfer"] == still.transfer


def test_a_warm_start_to_other_classes_gets_a_new_output_layer_and_refuses_what_it_cannot_read():
    source = _as_predictor(train_tabular(learnable_frame(), "label", config=TrainConfig(epochs=2)))
    target = learnable_frame(n=300, seed=8)
    target["label"] = np.where(target["x1"] > 0.5, "high", np.where(target["x1"] < -0.5, "low", "mid"))
    moved = train_tabular(target, "label", config=TrainConfig(epochs=2), warm_start=source)
    assert moved.transfer["head"].startswith("new") and moved.encoder.n_outputs == 3
    assert moved.transfer["parameters"] < source.meta["architecture"]["parameters"]
    with pytest.raises(DataError, match="lacks the source model's feature column") as err:
        train_tabular(target.drop(columns=["colour"]), "label", config=TrainConfig(epochs=1), warm_start=source)
    assert err.value.field == "target_domain"
    target["label"] = target["x2"] * 3.0  # a regression target
    with pytest.raises(DataError, match="regression"):
        train_tabular(target, "label", config=TrainConfig(epochs=1), warm_start=source)
