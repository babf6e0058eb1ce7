from __future__ import annotations

import json

import numpy as np
import pandas as pd
import pytest

from neural.engine.errors import InputValidationError
from neural.engine.preprocessing import TEXT_BUCKETS, TabularPreprocessor
from neural.engine.schema import ColumnKind, ColumnSpec


def _specs() -> list[ColumnSpec]:
    return [
        ColumnSpec("note", ColumnKind.TEXT),
        ColumnSpec("tags", ColumnKind.TAGS),
        ColumnSpec("x", ColumnKind.NUMERIC),
    ]


def _frame() -> pd.DataFrame:
    return pd.DataFrame(
        {
            "note": ["laptop stolen from car", "server hacked remotely", None, "paper records lost"] * 5,
            "tags": ["a;b", "b", "c;a", None] * 5,
            "x": [1.0, 2.0, 3.0, 4.0] * 5,
        }
    )


def test_it_hashes_text_and_multi_hot_encodes_tags():
    pre = TabularPreprocessor(columns=_specs()).fit(_frame())
    x_num, x_cat = pre.transform(_frame())
    assert x_num.shape == (20, 1 + TEXT_BUCKETS + 3 + 1)
    assert x_cat.shape == (20, 0)
    text = x_num[:, 1 : 1 + TEXT_BUCKETS]
    assert np.allclose(np.linalg.norm(text[0]), 1.0)
    assert not text[2].any()  # missing text contributes nothing
    tags = x_num[:, 1 + TEXT_BUCKETS :]
    vocab = pre.tags_[0]["vocab"]
    assert sorted(vocab) == ["a", "b", "c"]
    assert tags[0, vocab.index("a")] == 1 and tags[0, vocab.index("b")] == 1 and tags[0, -1] == 0
    assert not tags[3].any()


def test_it_flags_unseen_tags_and_ignores_unseen_words_consistently():
    pre = TabularPreprocessor(columns=_specs()).fit(_frame())
    new = pd.DataFrame({"note": ["laptop stolen from car"], "tags": [["a", "zzz"]], "x": [1.0]})
    x_num, _ = pre.transform(new)
    reference, _ = pre.transform(_frame().head(1))
    assert np.allclose(x_num[0, 1 : 1 + TEXT_BUCKETS], reference[0, 1 : 1 + TEXT_BUCKETS])
    assert x_num[0, -1] == 1.0


def test_it_round_trips_text_and_tags_through_json():
    pre = TabularPreprocessor(columns=_specs()).fit(_frame())
    again = TabularPreprocessor.from_dict(json.loads(json.dumps(pre.to_dict())))
    assert np.array_equal(pre.transform(_frame())[0], again.transform(_frame())[0])
    assert again.n_numeric == pre.n_numeric


def test_it_refuses_wrongly_typed_text_and_tags():
    pre = TabularPreprocessor(columns=_specs()).fit(_frame())
    with pytest.raises(InputValidationError) as err:
        pre.validate_records([{"note": 5, "tags": {"a": 1}, "x": 1.0}])
    assert set(err.value.fields) == {"note", "tags"}
    pre.validate_records([{"note": "fine", "tags": ["a"], "x": 1.0}])
    pre.validate_records([{"note": None, "tags": "a;b", "x": 1.0}])
