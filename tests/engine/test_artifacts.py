from __future__ import annotations

import numpy as np
import pandas as pd
import pytest

from neural.engine.artifacts import WEIGHTS, save_model
from neural.engine.config import TrainConfig
from neural.engine.errors import ArtifactIntegrityError, InputValidationError
from neural.engine.pipeline import train_tabular
from neural.engine.predictor import TabularPredictor, load_predictor
from tests.engine.test_training import learnable_frame


@pytest.fixture(scope="module")
def saved(tmp_path_factory):
    df = learnable_frame()
    trained = train_tabular(df, "label", config=TrainConfig(epochs=3))
    directory = tmp_path_factory.mktemp("artifact") / "v1"
    save_model(directory, trained.network, trained.meta())
    return trained, directory, df


def test_it_round_trips_a_model_with_identical_predictions(saved):
    trained, directory, df = saved
    loaded = load_predictor(directory)
    direct = TabularPredictor(trained.network, trained.preprocessor, trained.encoder, trained.meta())
    rows = df.drop(columns="label").head(20)
    a, b = loaded.predict_frame(rows), direct.predict_frame(rows)
    assert [r["probabilities"] for r in a] == [r["probabilities"] for r in b]


def test_it_writes_weights_json_and_checksums_and_no_pickle(saved):
    _, directory, _ = saved
    assert sorted(p.name for p in directory.iterdir()) == ["SHA256SUMS", "model.json", WEIGHTS]
    assert not directory.joinpath(WEIGHTS).read_bytes().startswith(b"\x80")  # pickle protocol marker


def test_it_refuses_a_tampered_weights_file(saved, tmp_path):
    _, directory, _ = saved
    copy = tmp_path / "v1"
    copy.mkdir()
    for p in directory.iterdir():
        copy.joinpath(p.name).write_bytes(p.read_bytes())
    data = bytearray(copy.joinpath(WEIGHTS).read_bytes())
    data[-1] ^= 0xFF
    copy.joinpath(WEIGHTS).write_bytes(bytes(data))
    with pytest.raises(ArtifactIntegrityError, match="checksum mismatch"):
        load_predictor(copy)


def test_it_refuses_a_truncated_artifact(saved, tmp_path):
    _, directory, _ = saved
    copy = tmp_path / "v1"
    copy.mkdir()
    for p in directory.iterdir():
        if p.name != "model.json":
            copy.joinpath(p.name).write_bytes(p.read_bytes())
    with pytest.raises(ArtifactIntegrityError, match="missing"):
        load_predictor(copy)


def test_it_lists_every_bad_input_field(saved):
    _, directory, _ = saved
    predictor = load_predictor(directory)
    with pytest.raises(InputValidationError) as err:
        predictor.predict_records([{"x1": "high", "x2": float("nan"), "extra": 1}])
    assert err.value.fields == {
        "colour": "missing field",
        "extra": "unknown field",
        "x1": "must be a number",
        "x2": "must be a finite number (NaN and infinity are refused)",
    }


def test_it_maps_unseen_categories_to_the_unknown_slot(saved):
    _, directory, _ = saved
    predictor = load_predictor(directory)
    out = predictor.predict_records([{"x1": 0.1, "x2": 0.2, "colour": "purple"}])
    assert sum(out[0]["probabilities"].values()) == pytest.approx(1.0, abs=1e-5)
    assert np.isfinite(list(out[0]["probabilities"].values())).all()
    assert isinstance(pd.Series([out[0]["prediction"]]).iloc[0], (int, np.integer))
