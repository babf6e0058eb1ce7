from __future__ import annotations

import os

import pytest

from neural.engine.errors import DataError, UnsafePath
from neural.engine.names import confined, is_valid_name, name_from_text, validate_name


@pytest.mark.parametrize("name", ["churn", "Coord-Model.v2", "a", "x_1", "9lives", "a" * 100])
def test_it_accepts_slugs(name):
    assert validate_name(name) == name


@pytest.mark.parametrize(
    "name", ["", "../../x", "/abs", "team/a", "a\\b", ".hidden", "a..b", "..", "a b", "a" * 101, "é", None, 3]
)
def test_it_refuses_anything_else_naming_the_field(name):
    assert not is_valid_name(name)
    with pytest.raises(DataError) as err:
        validate_name(name, field="model_name")
    assert err.value.field == "model_name"


def test_it_makes_a_valid_name_from_free_text():
    assert name_from_text("retrain of churn:v3") == "retrain-of-churn-v3"
    assert is_valid_name(name_from_text("../../" + "x" * 300)) and name_from_text("//") == "unnamed"


def test_it_confines_paths_to_their_root(tmp_path):
    root = tmp_path / "root"
    root.mkdir()
    assert confined(root, "a/v1") == root.resolve() / "a" / "v1"
    assert confined(root, str(root / "b")) == root.resolve() / "b"
    for bad in ["../x", "a/../../x", "/etc/passwd", ".", ""]:
        with pytest.raises(UnsafePath):
            confined(root, bad)
    os.symlink(tmp_path, root / "link")
    with pytest.raises(UnsafePath):
        confined(root, "link/elsewhere")
