"""The `--gpu --mixed-precision` path, on a CUDA GPU. These need the hardware: on a machine
without one they are skipped (the refusal of `gpu: true` there, and resuming a GPU run from its
checkpoint, are in test_training.py)."""

from __future__ import annotations

import math

import numpy as np
import pytest
import torch

from neural.engine.artifacts import save_model
from neural.engine.config import TrainConfig
from neural.engine.pipeline import train_tabular
from neural.engine.predictor import TabularPredictor, load_predictor
from tests.engine.test_training import Recorder, learnable_frame

pytestmark = pytest.mark.skipif(not torch.cuda.is_available(), reason="needs a CUDA GPU")

GPU = {"gpu": True, "mixed_precision": True}


def test_it_learns_on_the_gpu_with_mixed_precision_as_well_as_on_the_cpu():
    df = learnable_frame(n=2000)
    rec = Recorder()
    gpu = train_tabular(df, "label", config=TrainConfig(epochs=15, **GPU), callbacks=[rec])
    cpu = train_tabular(df, "label", config=TrainConfig(epochs=15))
    assert all(math.isfinite(e["train_loss"]) and math.isfinite(e["val_loss"]) for e in rec.epochs)
    assert rec.epochs[-1]["train_loss"] < 0.6 * rec.epochs[0]["train_loss"]
    assert gpu.test_metrics["accuracy"] > 0.85
    assert abs(gpu.test_metrics["accuracy"] - cpu.test_metrics["accuracy"]) < 0.05
    # The trained network comes back on the CPU in full precision, ready to save and serve.
    assert {p.device.type for p in gpu.network.parameters()} == {"cpu"}
    assert {p.dtype for p in gpu.network.parameters()} == {torch.float32}


def test_a_gpu_trained_model_saves_and_serves_on_the_cpu(tmp_path):
    df = learnable_frame()
    trained = train_tabular(df, "label", config=TrainConfig(epochs=5, **GPU))
    save_model(tmp_path / "v1", trained.network, trained.meta())
    loaded = load_predictor(tmp_path / "v1")
    direct = TabularPredictor(trained.network, trained.preprocessor, trained.encoder, trained.meta())
    rows = df.drop(columns="label").head(50)
    assert [r["probabilities"] for r in loaded.predict_frame(rows)] == [
        r["probabilities"] for r in direct.predict_frame(rows)
    ]


def test_it_regresses_on_the_gpu():
    df = learnable_frame(n=2000)
    df["y"] = df["x1"] * 3 + df["x2"] + np.random.default_rng(1).normal(scale=0.1, size=len(df))
    trained = train_tabular(df.drop(columns="label"), "y", config=TrainConfig(epochs=30, **GPU))
    assert trained.test_metrics["r2"] > 0.8
