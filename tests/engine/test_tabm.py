from __future__ import annotations

import json

import numpy as np
import onnxruntime as ort
import pandas as pd
import pytest
import torch

from neural.engine.artifacts import save_model
from neural.engine.config import TrainConfig
from neural.engine.errors import DataError, StopTraining
from neural.engine.export import export_onnx
from neural.engine.networks import TabMNetwork, TabularMLP, build_network
from neural.engine.pipeline import train_tabular
from neural.engine.predictor import load_predictor
from tests.engine.test_training import Recorder, learnable_frame

TABM = {"architecture": "tabm", "tabm_k": 4, "hidden_sizes": [32, 32], "epochs": 8, "batch_size": 64}


def regression_frame(n: int = 400, seed: int = 0) -> pd.DataFrame:
    rng = np.random.default_rng(seed)
    x1, x2 = rng.normal(size=n), rng.uniform(0, 5, n)
    return pd.DataFrame({"x1": x1, "x2": x2, "y": 3 * x1 + np.sin(x2) * 2 + rng.normal(0, 0.1, n)})


@pytest.fixture(scope="module")
def tabm_model():
    rec = Recorder()
    trained = train_tabular(
        learnable_frame(), "label", config=TrainConfig(**{**TABM, "early_stopping": False}), callbacks=[rec]
    )
    return trained, rec


def test_it_trains_a_tabm_network_whose_loss_falls(tabm_model):
    trained, rec = tabm_model
    assert isinstance(trained.network, TabMNetwork)
    losses = [e["train_loss"] for e in rec.epochs]
    assert losses[-1] < losses[0] * 0.8
    assert trained.test_metrics["accuracy"] > 0.8


def test_it_writes_the_bin_edges_into_model_json_and_predicts_the_same_after_loading(tabm_model, tmp_path):
    trained, _ = tabm_model
    arch = trained.meta()["architecture"]
    assert arch["type"] == "TabM" and arch["k"] == 4 and len(arch["bins"]) == len(arch["embedded"]) == 2
    save_model(tmp_path / "v1", trained.network, trained.meta())
    assert json.loads((tmp_path / "v1" / "model.json").read_text())["architecture"]["bins"] == arch["bins"]
    loaded = load_predictor(tmp_path / "v1")
    rows = learnable_frame(seed=3).drop(columns="label").head(25)
    direct = load_predictor(tmp_path / "v1").predict_frame(rows)
    assert [r["probabilities"] for r in loaded.predict_frame(rows)] == [r["probabilities"] for r in direct]
    x_num, x_cat = trained.preprocessor.transform(rows)
    with torch.inference_mode():
        expected = torch.softmax(trained.network.eval()(torch.from_numpy(x_num), torch.from_numpy(x_cat)), 1)
    got = np.array([[r["probabilities"][k] for k in ("0", "1")] for r in loaded.predict_frame(rows)])
    np.testing.assert_allclose(got, expected.numpy(), atol=1e-5)


def test_it_averages_the_members_probabilities_in_eval_mode():
    torch.manual_seed(0)
    net = TabMNetwork(3, [4], 3, embedded=[0, 1], bins=[[-1.0, 0.0, 1.0], [0.0, 2.0]], k=5, d_block=8, dropout=0.0)
    x_num, x_cat = torch.randn(6, 3), torch.randint(0, 4, (6, 1))
    with torch.no_grad():
        members = net.train()(x_num, x_cat)  # no dropout: the same function as in eval mode
        averaged = net.eval()(x_num, x_cat)
    assert members.shape == (6, 5, 3) and averaged.shape == (6, 3)
    np.testing.assert_allclose(torch.softmax(averaged, 1), torch.softmax(members, -1).mean(1), atol=1e-6)


def test_it_gives_the_same_metrics_for_the_same_seed_and_data():
    config = TrainConfig(**TABM, seed=7)
    a = train_tabular(learnable_frame(), "label", config=config)
    b = train_tabular(learnable_frame(), "label", config=config)
    assert a.test_metrics == b.test_metrics
    assert [e["val_loss"] for e in a.fit.history] == [e["val_loss"] for e in b.fit.history]


def test_it_fits_a_regression_target_with_periodic_embeddings():
    config = TrainConfig(**{**TABM, "num_embeddings": "periodic", "epochs": 30})
    trained = train_tabular(regression_frame(), "y", config=config)
    assert trained.meta()["architecture"]["bins"] == []
    assert trained.test_metrics["r2"] > 0.7


def test_it_exports_tabm_to_onnx_with_the_same_probabilities(tabm_model, tmp_path):
    trained, _ = tabm_model
    save_model(tmp_path / "v1", trained.network, trained.meta())
    predictor = load_predictor(tmp_path / "v1")
    export_onnx(predictor, tmp_path / "m.onnx")
    rows = learnable_frame(seed=5).drop(columns="label").head(30)
    x_num, x_cat = predictor.preprocessor.transform(rows)
    (onnx_proba,) = ort.InferenceSession(str(tmp_path / "m.onnx")).run(None, {"x_num": x_num, "x_cat": x_cat})
    ours = np.array([[r["probabilities"][k] for k in ("0", "1")] for r in predictor.predict_frame(rows)])
    np.testing.assert_allclose(onnx_proba, ours, atol=1e-5)


def test_it_keeps_the_mlp_as_a_named_architecture():
    trained = train_tabular(learnable_frame(), "label", config=TrainConfig(architecture="mlp", epochs=2))
    assert isinstance(trained.network, TabularMLP)
    assert isinstance(build_network(trained.meta()["architecture"]), TabularMLP)


@pytest.mark.parametrize(
    ("options", "field"),
    [
        ({"architecture": "transformer"}, "architecture"),
        ({"num_embeddings": "fourier"}, "num_embeddings"),
        ({"tabm_k": 0}, "tabm_k"),
        ({"num_embedding_dim": 0}, "num_embedding_dim"),
        ({"bagging": "jackknife"}, "bagging"),
        # The MLP's own options with TabM (the default) would be accepted and ignored.
        ({"residual": True}, "residual"),
        ({"norm": "batch"}, "norm"),
    ],
)
def test_it_refuses_an_unknown_architecture_option_naming_the_field(options, field):
    with pytest.raises(DataError, match=field) as caught:
        TrainConfig.from_dict(options)
    assert caught.value.field == field


def test_the_mlp_takes_its_own_options_and_its_own_default_width():
    config = TrainConfig.from_dict({"architecture": "mlp", "residual": True, "norm": "batch"})
    assert config.hidden_sizes == [256, 128] and TrainConfig().hidden_sizes == [64, 64]


def test_a_member_trains_on_every_training_row_by_default_and_on_a_bootstrap_sample_when_asked():
    df = learnable_frame()
    plain = train_tabular(df, "label", config=TrainConfig(**TABM))
    member = train_tabular(df, "label", config=TrainConfig(**TABM, bagging_seed=3))
    bagged = train_tabular(df, "label", config=TrainConfig(**TABM, bagging_seed=3, bagging="bootstrap"))
    assert member.split == plain.split == bagged.split  # the same training, validation and test rows
    assert member.frames["train"].index.equals(plain.frames["train"].index)
    weights = {name: m.network.state_dict()["output.weight"] for name, m in (("plain", plain), ("member", member))}
    assert not torch.equal(weights["plain"], weights["member"])  # its own seed: initialisation, batch order
    # The same seed on a bootstrap sample (as many rows, drawn with replacement) learns other weights.
    assert not torch.equal(bagged.network.state_dict()["output.weight"], weights["member"])


def test_the_numeric_embedding_width_is_an_option():
    trained = train_tabular(learnable_frame(), "label", config=TrainConfig(**{**TABM, "num_embedding_dim": 5}))
    assert trained.architecture()["d_embedding"] == 5


def test_it_distils_a_tabm_teacher_into_an_mlp_student_under_the_budget(tabm_model):
    student = train_tabular(learnable_frame(), "label", config=TrainConfig(**TABM), param_budget=1500)
    assert isinstance(student.network, TabularMLP)
    assert student.meta()["architecture"]["parameters"] <= 1500
    assert student.config.architecture == "mlp"


def test_it_trains_tabm_on_categorical_columns_only_and_on_a_constant_numeric():
    rng = np.random.default_rng(1)
    colour = rng.choice(["red", "green", "blue"], 300)
    df = pd.DataFrame({"colour": colour, "flat": 1.0, "label": (colour == "red").astype(int)})
    trained = train_tabular(df, "label", config=TrainConfig(**TABM))
    assert trained.meta()["architecture"]["embedded"] == []  # one value: nothing to bin
    assert trained.test_metrics["accuracy"] > 0.9


def test_it_resumes_a_tabm_run_from_its_checkpoint_to_the_same_result(tmp_path):
    df, config = learnable_frame(), TrainConfig(**{**TABM, "epochs": 4, "early_stopping": False})
    with pytest.raises(StopTraining):
        train_tabular(df, "label", config=config, callbacks=[Recorder(stop_after=2)], checkpoint_dir=tmp_path)
    resumed = train_tabular(df, "label", config=config, checkpoint_dir=tmp_path)
    straight = train_tabular(df, "label", config=config)
    assert resumed.fit.resumed_from == 2 and len(resumed.fit.history) == 4
    assert resumed.fit.history[-1]["val_loss"] == pytest.approx(straight.fit.history[-1]["val_loss"], rel=1e-5)


def test_a_one_bin_column_is_embedded_without_rtdls_one_bin_warning_and_other_warnings_still_show():
    import warnings

    from neural.engine.networks import numeric_bins

    rare = np.array([0.0] * 38 + [1.0, 1.0], dtype=np.float32)  # two values, one rare: quantiles give one bin
    x = np.stack([np.arange(40, dtype=np.float32), rare], axis=1)
    with warnings.catch_warnings(record=True) as caught:
        warnings.simplefilter("always")
        kept, bins = numeric_bins(x, [0, 1])
        TabMNetwork(2, [], 2, embedded=kept, bins=bins, k=2, d_block=8, d_embedding=4)
        warnings.warn("another warning", UserWarning, stacklevel=1)
    assert kept == [0, 1] and len(bins[1]) == 2  # the rare flag: one bin, embedded
    assert [str(w.message) for w in caught] == ["another warning"]
