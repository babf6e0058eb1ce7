import pandas as pd
import pytest

from neural.engine.errors import DataError
from neural.engine.schema import JSON_LIST, ColumnKind, TaskKind, infer_schema, infer_task, split_tags


def test_it_infers_kinds_and_flags_identifiers():
    df = pd.DataFrame(
        {
            "id": [f"row-{i}" for i in range(30)],
            "n": range(30),
            "flag": ["true", "false"] * 15,
            "colour": ["a", "b", "c"] * 10,
            "when": pd.date_range("2026-01-01", periods=30, freq="h").strftime("%Y-%m-%dT%H:%M:%SZ"),
            "y": [0, 1] * 15,
        }
    )
    specs = {c.name: c for c in infer_schema(df, "y")}
    assert specs["n"].kind is ColumnKind.NUMERIC
    assert specs["flag"].kind is ColumnKind.BOOLEAN
    assert specs["colour"].kind is ColumnKind.CATEGORICAL
    assert specs["when"].kind is ColumnKind.DATETIME
    assert specs["id"].excluded and "identifier" in specs["id"].reason


@pytest.mark.parametrize(
    ("values", "task"),
    [
        ([0, 1, 1, 0], TaskKind.BINARY),
        (["a", "b", "c"], TaskKind.MULTICLASS),
        ([0.5, 1.7, 2.2, 9.1], TaskKind.REGRESSION),
    ],
)
def test_it_infers_the_task_from_the_target(values, task):
    assert infer_task(pd.Series(values, name="t")) is task


def test_it_refuses_a_single_class_target():
    with pytest.raises(DataError, match="1 distinct"):
        infer_task(pd.Series([1, 1, 1], name="t"))


def _text_and_tags_frame(n: int = 60) -> pd.DataFrame:
    words = ["laptop", "stolen", "server", "hacked", "email", "paper", "records", "lost", "vehicle", "office"]
    return pd.DataFrame(
        {
            "description": [
                f"the {words[i % 10]} with {words[(i * 3) % 10]} records was {words[(i * 7) % 10]} from site {i}"
                for i in range(n)
            ],
            "labels": [["a;b", "b", "c;a", "d"][i % 4] for i in range(n)],
            "json_tags": [['["x", "y"]', '["y"]', "[]"][i % 3] for i in range(n)],
            "place": [["Paper/Films", "Laptop, Email", "Laptop"][i % 3] for i in range(n)],
            "name": [f"Clinic Number {i} LLC" for i in range(n)],
            "colour": ["red", "green", "blue"] * (n // 3),
            "y": [0, 1] * (n // 2),
        }
    )


def test_it_infers_free_text_and_tag_lists():
    specs = {c.name: c for c in infer_schema(_text_and_tags_frame(), "y")}
    assert specs["description"].kind is ColumnKind.TEXT
    assert specs["name"].kind is ColumnKind.TEXT
    assert specs["labels"].kind is ColumnKind.TAGS
    assert specs["json_tags"].kind is ColumnKind.TAGS
    assert specs["place"].kind is ColumnKind.TAGS
    assert specs["colour"].kind is ColumnKind.CATEGORICAL
    assert specs["labels"].to_dict() == {"name": "labels", "kind": "tags", "excluded": False, "reason": ""}


def test_it_keeps_a_delimited_target_a_label():
    df = _text_and_tags_frame()
    specs = {c.name: c for c in infer_schema(df, "labels")}
    assert specs["labels"].kind is ColumnKind.CATEGORICAL


def test_it_splits_tags_from_strings_json_and_lists():
    assert split_tags("a; b;;c", ";") == ["a", "b", "c"]
    assert split_tags('["x", "y"]', JSON_LIST) == ["x", "y"]
    assert split_tags(["p", " q "], ",") == ["p", "q"]
    assert split_tags(None, ",") == []
    assert split_tags(float("nan"), ",") == []
