from __future__ import annotations

import numpy as np
import pandas as pd
import pytest

from neural.engine.config import TrainConfig
from neural.engine.errors import DataError
from neural.engine.metrics import classification_metrics
from neural.engine.pipeline import train_tabular
from neural.engine.predictor import TabularPredictor
from neural.engine.scoring import score_frame


@pytest.fixture(scope="module")
def predictor() -> TabularPredictor:
    rng = np.random.default_rng(0)
    x = rng.normal(size=300)
    df = pd.DataFrame({"x": x, "kind": rng.choice(["a", "b"], 300), "y": np.where(x > 0, "up", "down")})
    trained = train_tabular(df, target="y", config=TrainConfig(epochs=3, seed=0))
    return TabularPredictor(trained.network, trained.preprocessor, trained.encoder, trained.meta())


def _frame(n: int = 40) -> pd.DataFrame:
    x = np.linspace(-2, 2, n)
    return pd.DataFrame({"x": x, "kind": ["a", "b"] * (n // 2), "y": np.where(x > 0, "up", "down")})


def test_it_scores_the_labelled_rows_as_the_metrics_module_does(predictor):
    frame = _frame().astype({"y": object})
    frame.loc[0, "y"] = None  # an unlabelled row is skipped
    got = score_frame(predictor, frame, "y")
    labelled = frame[frame["y"].notna()]
    results = predictor.predict_frame(labelled[["x", "kind"]])
    index = {str(c): i for i, c in enumerate(predictor.encoder.classes_)}
    proba = np.array([[r["probabilities"][str(c)] for c in predictor.encoder.classes_] for r in results])
    assert got == classification_metrics(labelled["y"].map(index).to_numpy(), proba)


def test_it_counts_a_label_the_model_does_not_know_as_wrong(predictor):
    frame = _frame()
    frame.loc[: len(frame) // 2 - 1, "y"] = "sideways"
    predicted = [r["prediction"] for r in predictor.predict_frame(frame[["x", "kind"]])]
    right = sum(p == y for p, y in zip(predicted, frame["y"], strict=True))
    assert right > 0
    assert score_frame(predictor, frame, "y")["accuracy"] == pytest.approx(right / len(frame))


def test_it_names_the_missing_column(predictor):
    with pytest.raises(DataError, match="kind"):
        score_frame(predictor, _frame().drop(columns="kind"), "y")
