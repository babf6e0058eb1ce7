"""The generator's four patterns train to the seed's targets and stay under their noise ceiling."""

from __future__ import annotations

import json
from io import StringIO

import numpy as np
import pytest
from django.core.management import call_command

from neural.datasets.generator import generate
from neural.datasets.models import PATTERN_TARGETS, Dataset
from neural.engine.config import TrainConfig
from neural.engine.pipeline import train_tabular
from neural.engine.predictor import TabularPredictor


@pytest.mark.slow
@pytest.mark.parametrize("pattern", ["coordination", "optimization", "prediction", "security"])
def test_it_trains_to_the_seed_target_and_not_to_100_percent(pattern):
    df, target = generate(pattern=pattern, rows=1500, seed=0)
    config = TrainConfig(epochs=15, patience=5, hidden_sizes=[64, 32], batch_size=128, learning_rate=5e-3)
    trained = train_tabular(df, target, config=config)
    held_out, _ = generate(pattern=pattern, rows=3000, seed=99)  # fresh rows from the same world
    predictor = TabularPredictor(trained.network, trained.preprocessor, trained.encoder, trained.meta())
    predicted = [str(p["prediction"]) for p in predictor.predict_frame(held_out.drop(columns=[target]))]
    accuracy = float(np.mean(np.array(predicted) == held_out[target].astype(str).to_numpy()))
    assert accuracy >= PATTERN_TARGETS[pattern], f"{pattern}: {accuracy:.3f}"
    assert accuracy <= held_out.attrs["noise_ceiling"] + 0.02 < 1.0


def test_it_draws_from_real_causes():
    df, _ = generate(pattern="coordination", rows=4000, seed=1)
    skilled = df["agent_skill"] > df["agent_skill"].median()
    assert df.loc[skilled, "success"].mean() > df.loc[~skilled, "success"].mean() + 0.1
    opt, _ = generate(pattern="optimization", rows=4000, seed=1)
    assert opt.groupby("bottleneck")["cpu_percent"].mean().idxmax() == "cpu"
    assert opt["bottleneck"].value_counts(normalize=True).max() < 0.6  # imbalanced, not degenerate


def test_drift_shifts_the_second_half():
    df, _ = generate(pattern="prediction", rows=2000, seed=2, drift=True)
    first, second = df.iloc[:1000], df.iloc[1000:]
    assert second["agent_load"].mean() > first["agent_load"].mean() + 1
    assert second["success"].mean() < first["success"].mean()


def test_the_cli_generates_a_stored_version_with_its_ceiling(db):
    out = StringIO()
    call_command(
        "data",
        "generate",
        "--pattern",
        "security",
        "--rows",
        "300",
        "--name",
        "sec",
        "--seed",
        "4",
        "--drift",
        "--json",
        stdout=out,
    )
    body = json.loads(out.getvalue())
    assert body["rows"] == 300 and body["target"] == "high_risk" and 0.5 < body["noise_ceiling"] < 1
    ds = Dataset.objects.get(name="sec")
    assert ds.operation["params"] == {
        "pattern": "security",
        "rows": 300,
        "seed": 4,
        "drift": True,
        "noise_ceiling": body["noise_ceiling"],
    }
    excluded = {c["name"] for c in ds.schema if c["excluded"]}
    assert excluded == {"task_id"}
