from __future__ import annotations

import pytest

from neural.engine.config import TrainConfig
from neural.engine.errors import DataError
from neural.engine.presets import BEST_MEMBERS, PRESETS, preset_options, resolve_preset
from neural.engine.training_file import TrainingFileError, parse_training_file


def test_it_puts_the_users_options_over_the_preset():
    options, ensemble = resolve_preset("default", {"epochs": 7, "tabm_k": 4})
    assert options["architecture"] == "tabm" and options["epochs"] == 7 and options["tabm_k"] == 4
    assert ensemble is None
    assert TrainConfig.from_dict(options).architecture == "tabm"


def test_it_resolves_best_to_the_default_options_and_an_ensemble_request():
    options, ensemble = resolve_preset("best", {})
    assert options == PRESETS["default"]
    assert ensemble == {"base_models": BEST_MEMBERS, "method": "voting"}


def test_fast_is_the_mlp_and_no_preset_changes_nothing():
    assert TrainConfig.from_dict(preset_options("fast")).architecture == "mlp"
    assert resolve_preset(None, {"epochs": 3}) == ({"epochs": 3}, None)


def test_it_refuses_an_unknown_preset_naming_the_field():
    with pytest.raises(DataError, match="preset must be one of fast, default, best") as caught:
        resolve_preset("turbo", {})
    assert caught.value.field == "preset"


def test_a_preset_copy_cannot_change_the_preset():
    preset_options("default")["hidden_sizes"].append(1)
    assert preset_options("default")["hidden_sizes"] == PRESETS["default"]["hidden_sizes"]


def test_the_training_file_takes_a_preset_per_model_and_blames_the_line_of_a_bad_one():
    parsed = parse_training_file("models:\n  prediction:\n    preset: fast\n    epochs: 3\n")
    assert parsed.train_options("prediction") == {"preset": "fast", "epochs": 3}
    with pytest.raises(TrainingFileError, match=r":3: models.prediction.preset: must be one of") as caught:
        parse_training_file("models:\n  prediction:\n    preset: turbo\n")
    assert caught.value.line == 3
