"""Robustness: seeded perturbations of held-out rows and gradient attacks, framework-free."""

from __future__ import annotations

import pandas as pd
import pytest

from neural.engine.config import TrainConfig
from neural.engine.errors import DataError
from neural.engine.pipeline import train_tabular
from neural.engine.predictor import TabularPredictor
from neural.engine.robustness import STRENGTHS, gradient_attack, numeric_positions, robustness_report
from neural.engine.scoring import score_frame
from tests.engine.test_training import learnable_frame


@pytest.fixture(scope="module")
def model():
    trained = train_tabular(learnable_frame(800), "label", config=TrainConfig(epochs=12, early_stopping=False))
    predictor = TabularPredictor(trained.network, trained.preprocessor, trained.encoder, trained.meta())
    return predictor, trained.frames["test"]


def test_it_reports_every_perturbation_and_strength_and_is_reproducible(model):
    predictor, test = model
    report = robustness_report(predictor, test, "label", seed=3)
    assert report == robustness_report(predictor, test, "label", seed=3)
    cells = {(c["perturbation"], c["strength"]) for c in report["results"]}
    assert cells == {(name, s) for name, strengths in STRENGTHS.items() for s in strengths}
    assert report["metric"] == "accuracy" and report["rows"] == len(test) and report["clean"] > 0.7
    assert 0.0 <= report["score"] <= 1.0


def test_its_clean_score_is_the_one_scorer_s(model):
    predictor, test = model
    report = robustness_report(predictor, test, "label")
    assert report["rows"] == len(test)
    assert report["clean"] == score_frame(predictor, test, "label")["accuracy"]


def test_it_hurts_more_the_stronger_the_attack_and_pgd_at_least_as_much_as_fgsm(model):
    predictor, test = model
    frame, y = test[predictor.feature_names], test["label"].to_numpy()
    weak = gradient_attack(predictor, frame, y, epsilon=0.05, steps=1, seed=0)
    strong = gradient_attack(predictor, frame, y, epsilon=1.0, steps=1, seed=0)
    pgd = gradient_attack(predictor, frame, y, epsilon=1.0, steps=10, seed=0)
    assert strong < weak and pgd <= strong + 0.02
    noisy = {
        c["strength"]: c["score"]
        for c in robustness_report(predictor, test, "label")["results"]
        if c["perturbation"] == "gaussian_noise"
    }
    assert noisy[1.0] < noisy[0.1]


def test_it_attacks_only_the_numeric_columns(model):
    predictor, _ = model
    assert len(numeric_positions(predictor)) == 2  # x1, x2; colour is an embedding


def test_it_skips_perturbations_without_columns_and_refuses_rows_without_the_features(model):
    predictor, test = model
    with pytest.raises(DataError) as err:
        robustness_report(predictor, test.drop(columns=["x1"]), "label")
    assert err.value.field == "data"
    numeric_only = pd.DataFrame({"a": range(200), "label": [i % 2 for i in range(200)]})
    trained = train_tabular(numeric_only, "label", config=TrainConfig(epochs=2))
    small = TabularPredictor(trained.network, trained.preprocessor, trained.encoder, trained.meta())
    report = robustness_report(small, trained.frames["test"], "label")
    assert set(report["skipped"]) == {"unseen_categories", "flipped_categories"}
