import pandas as pd
import pytest

from neural.engine.errors import DataError
from neural.engine.schema import ColumnKind, TaskKind, infer_schema, infer_task


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
