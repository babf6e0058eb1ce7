"""Ensembles in the engine: the combination arithmetic against hand computations, fitting on
validation rows, the folder round trip with checksums, and the one-graph ONNX export."""

from __future__ import annotations

import numpy as np
import onnxruntime as ort
import pytest

from neural.engine.artifacts import SUMS, save_model
from neural.engine.config import TrainConfig
from neural.engine.ensemble import (
    EnsemblePredictor,
    check_members,
    check_weights,
    combine,
    fit_combination,
    fit_weights,
    member_entry,
    save_ensemble,
)
from neural.engine.errors import ArtifactIntegrityError, DataError
from neural.engine.export import export_onnx
from neural.engine.fastpath import FastEnsemble, fast_predictor
from neural.engine.pipeline import train_tabular
from neural.engine.predictor import TabularPredictor, load_predictor
from tests.engine.test_training import learnable_frame

# Two members, three rows, two classes: P[m, row, class].
PROBA = np.array(
    [
        [[0.9, 0.1], [0.4, 0.6], [0.2, 0.8]],
        [[0.5, 0.5], [0.8, 0.2], [0.1, 0.9]],
    ]
)


def test_voting_is_the_mean_of_the_members_probabilities():
    out = combine("voting", PROBA, {"weights": np.array([0.5, 0.5])})
    assert np.allclose(out, [[0.7, 0.3], [0.6, 0.4], [0.15, 0.85]])


def test_weighted_voting_weighs_each_member():
    out = combine("weighted", PROBA, {"weights": np.array([0.25, 0.75])})
    # row 0: 0.25*0.9 + 0.75*0.5 = 0.6; row 1: 0.25*0.4 + 0.75*0.8 = 0.7; row 2: 0.025 + 0.075 = 0.1
    assert np.allclose(out[:, 0], [0.6, 0.7, 0.125])
    assert np.allclose(out.sum(axis=1), 1.0)


def test_stacking_is_a_softmax_of_a_linear_model_on_the_member_probabilities():
    coef = np.array([[0.0, 0.0, 0.0, 0.0], [1.0, -1.0, 2.0, 0.0]])
    intercept = np.array([0.0, 0.5])
    out = combine("stacking", PROBA, {"coef": coef, "intercept": intercept})
    # row 0 features: [0.9, 0.1, 0.5, 0.5] -> class-1 score 0.9 - 0.1 + 1.0 + 0.5 = 2.3
    assert out[0, 1] == pytest.approx(1 / (1 + np.exp(-2.3)))
    regression = combine(
        "stacking", np.array([[1.0, 2.0], [3.0, 5.0]]), {"coef": np.array([[0.5, 0.25]]), "intercept": np.array([1.0])}
    )
    assert np.allclose(regression, [1 + 0.5 + 0.75, 1 + 1.0 + 1.25])


def test_fitted_weights_favour_the_member_that_is_right():
    y = np.array([0, 1, 1, 0, 1])
    good = np.array([[0.9, 0.1], [0.1, 0.9], [0.2, 0.8], [0.8, 0.2], [0.3, 0.7]])
    outputs = np.stack([good, good[:, ::-1]])  # the second member is always wrong
    weights = fit_weights(outputs, y)
    assert weights[0] > 0.95 and weights.min() >= 0 and weights.sum() == pytest.approx(1.0)
    values = np.array([[1.0, 2.0, 3.0], [10.0, 10.0, 10.0]])
    assert fit_weights(values, np.array([1.0, 2.0, 3.0]))[0] == pytest.approx(1.0, abs=1e-4)


def test_hand_weights_are_checked_and_normalised():
    assert np.allclose(check_weights([1, 3], 2), [0.25, 0.75])
    with pytest.raises(DataError) as excinfo:
        check_weights([1, 2, 3], 2)
    assert excinfo.value.field == "weights"
    with pytest.raises(DataError):
        check_weights([-1, 2], 2)


@pytest.fixture(scope="module")
def members():
    frame = learnable_frame(400)
    return [
        train_tabular(frame, "label", config=TrainConfig(epochs=4, bagging_seed=k, hidden_sizes=[16])) for k in range(3)
    ]


def _predictor(trained) -> TabularPredictor:
    return TabularPredictor(trained.network, trained.preprocessor, trained.encoder, trained.meta())


def test_bagged_members_share_the_split_but_not_the_weights(members):
    assert members[0].split == members[1].split
    assert not np.array_equal(members[0].frames["val"].index, []) and members[0].frames["val"].equals(
        members[2].frames["val"]
    )
    first = members[0].network.state_dict()
    second = members[1].network.state_dict()
    assert any(not np.array_equal(first[k].numpy(), second[k].numpy()) for k in first)


def test_stacking_fits_on_validation_rows_and_reports_out_of_fold_figures(members):
    predictors = [_predictor(t) for t in members]
    ensemble = EnsemblePredictor(predictors, "voting", {"weights": np.full(3, 1 / 3)}, {})
    val = members[0].frames["val"]
    outputs = ensemble.member_outputs(val)
    y = val["label"].to_numpy()
    params, oof = fit_combination("stacking", outputs, y, n_classes=2)
    assert params["coef"].shape == (2, 6) and oof.shape == (len(y), 2)
    assert np.allclose(oof.sum(axis=1), 1.0)
    stacked = EnsemblePredictor(predictors, "stacking", params, {})
    assert ((stacked.predict_array(val).argmax(axis=1) == y).mean()) > 0.7


def _write_ensemble(tmp_path, members, method="weighted", params=None):
    entries = []
    for k, trained in enumerate(members):
        folder = tmp_path / f"m{k}" / "v1"
        save_model(folder, trained.network, {**trained.meta(), "model": f"m{k}", "version": 1})
        entries.append(member_entry(folder, model=f"m{k}", version=1, path=f"m{k}/v1"))
    params = params or {"weights": np.array([0.2, 0.3, 0.5])}
    directory = tmp_path / "ens" / "v1"
    meta = {"method": method, "members": entries, "target": members[0].meta()["target"]}
    save_ensemble(directory, meta, params)
    return directory


def test_an_ensemble_folder_round_trips_and_predicts_as_its_members_combined(members, tmp_path):
    directory = _write_ensemble(tmp_path, members)
    loaded = load_predictor(directory)
    assert isinstance(loaded, EnsemblePredictor) and len(loaded.groups) == 1  # one transform for all
    frame = members[0].frames["test"]
    expected = sum(w * _predictor(t).predict_array(frame) for w, t in zip([0.2, 0.3, 0.5], members, strict=True))
    assert np.allclose(loaded.predict_array(frame), expected, atol=1e-6)
    records = frame[loaded.feature_names].to_dict("records")
    fast = fast_predictor(loaded)
    assert isinstance(fast, FastEnsemble)
    assert fast.predict_records(records) == loaded.predict_records(records)


def test_an_altered_member_or_combiner_is_refused(members, tmp_path):
    directory = _write_ensemble(tmp_path, members)
    (tmp_path / "m1" / "v1" / "model.json").write_text((tmp_path / "m0" / "v1" / "model.json").read_text())
    with pytest.raises(ArtifactIntegrityError, match="checksum mismatch"):
        load_predictor(directory)
    other = _write_ensemble(tmp_path / "b", members)
    member_sums = tmp_path / "b" / "m2" / "v1" / SUMS
    member_sums.write_text(member_sums.read_text() + "")  # untouched: loads
    load_predictor(other)
    (tmp_path / "b" / "m2" / "v1" / SUMS).write_text((tmp_path / "b" / "m1" / "v1" / SUMS).read_text())
    with pytest.raises(ArtifactIntegrityError):
        load_predictor(other)
    weights = other / "weights.safetensors"
    weights.write_bytes(weights.read_bytes()[:-4] + b"\0\0\0\0")
    with pytest.raises(ArtifactIntegrityError, match="checksum mismatch"):
        load_predictor(other)


def test_members_must_share_task_classes_and_columns(members):
    predictors = [_predictor(t) for t in members]
    with pytest.raises(DataError, match="at least 2"):
        check_members(predictors[:1], ["a"])
    frame = learnable_frame(300).rename(columns={"x2": "other"})
    different = _predictor(train_tabular(frame, "label", config=TrainConfig(epochs=1, hidden_sizes=[8])))
    with pytest.raises(DataError, match="different input columns") as excinfo:
        check_members([predictors[0], different], ["a", "b"])
    assert excinfo.value.field == "models"
    regression = learnable_frame(300).assign(label=lambda d: d["x1"] * 2.0)
    reg = _predictor(train_tabular(regression, "label", config=TrainConfig(epochs=1, hidden_sizes=[8])))
    with pytest.raises(DataError, match="share the task"):
        check_members([predictors[0], reg], ["a", "b"])


def test_onnx_export_of_an_ensemble_is_one_graph_that_matches(members, tmp_path):
    loaded = load_predictor(_write_ensemble(tmp_path, members))
    info = export_onnx(loaded, tmp_path / "ens.onnx")
    frame = members[0].frames["test"]
    x_num, x_cat = loaded.preprocessor.transform(frame)
    session = ort.InferenceSession(str(tmp_path / "ens.onnx"))
    out = session.run(None, {"x_num": x_num, "x_cat": x_cat})[0]
    assert info["output"] == "probabilities"
    assert np.abs(out - loaded.predict_array(frame)).max() < 1e-5


def test_onnx_export_refuses_members_with_different_preprocessing(members, tmp_path):
    other = train_tabular(learnable_frame(400, seed=3), "label", config=TrainConfig(epochs=1, hidden_sizes=[8]))
    ensemble = EnsemblePredictor(
        [_predictor(members[0]), _predictor(other)], "voting", {"weights": np.array([0.5, 0.5])}, {}
    )
    with pytest.raises(DataError, match="different preprocessings") as excinfo:
        export_onnx(ensemble, tmp_path / "x.onnx")
    assert excinfo.value.field == "model"
    assert not (tmp_path / "x.onnx").exists()
