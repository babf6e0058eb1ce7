"""Column kinds and task kinds, inferred from a pandas DataFrame."""

from __future__ import annotations

from dataclasses import asdict, dataclass
from enum import StrEnum

import numpy as np
import pandas as pd

from neural.engine.errors import DataError

MAX_CLASSES_FROM_INTEGERS = 20


class ColumnKind(StrEnum):
    NUMERIC = "numeric"
    CATEGORICAL = "categorical"
    BOOLEAN = "boolean"
    DATETIME = "datetime"


class TaskKind(StrEnum):
    BINARY = "binary"
    MULTICLASS = "multiclass"
    REGRESSION = "regression"

    @property
    def is_classification(self) -> bool:
        return self is not TaskKind.REGRESSION


@dataclass(frozen=True)
class ColumnSpec:
    name: str
    kind: ColumnKind
    excluded: bool = False
    reason: str = ""

    def to_dict(self) -> dict:
        return {**asdict(self), "kind": str(self.kind)}

    @classmethod
    def from_dict(cls, data: dict) -> ColumnSpec:
        return cls(
            name=data["name"],
            kind=ColumnKind(data["kind"]),
            excluded=bool(data.get("excluded", False)),
            reason=data.get("reason", ""),
        )


def infer_column_kind(series: pd.Series) -> ColumnKind:
    """Return the kind of one column, judged on its non-missing values."""
    values = series.dropna()
    if pd.api.types.is_bool_dtype(series) or _is_boolean_like(values):
        return ColumnKind.BOOLEAN
    if pd.api.types.is_numeric_dtype(series):
        return ColumnKind.NUMERIC
    if pd.api.types.is_datetime64_any_dtype(series) or _is_datetime_like(values):
        return ColumnKind.DATETIME
    return ColumnKind.CATEGORICAL


def _is_datetime_like(values: pd.Series) -> bool:
    """Text that parses as dates/times for at least 95% of a sample, and is not plain numbers."""
    sample = values.astype(str).head(500)
    if sample.empty or sample.str.fullmatch(r"[-+]?\d+(\.\d+)?").any():
        return False
    if not sample.str.contains(r"\d{1,4}[-/:.]\d{1,2}", regex=True).mean() >= 0.95:
        return False
    parsed = pd.to_datetime(sample, errors="coerce", utc=True, format="mixed")
    return bool(parsed.notna().mean() >= 0.95)


def _is_boolean_like(values: pd.Series) -> bool:
    if values.empty:
        return False
    if pd.api.types.is_numeric_dtype(values):
        return False
    lowered = set(values.astype(str).str.strip().str.lower().unique())
    return lowered <= {"true", "false"} and len(lowered) == 2


def infer_schema(df: pd.DataFrame, target: str | None) -> list[ColumnSpec]:
    """Infer a spec per column. Identifier-like text columns (unique per row) are excluded."""
    specs = []
    for name in df.columns:
        kind = infer_column_kind(df[name])
        excluded, reason = False, ""
        if name != target and _is_identifier(df[name], kind):
            excluded, reason = True, "identifier: unique per row"
        elif name != target and df[name].isna().all():
            excluded, reason = True, "all values missing"
        specs.append(ColumnSpec(name=str(name), kind=kind, excluded=excluded, reason=reason))
    return specs


def _is_identifier(series: pd.Series, kind: ColumnKind) -> bool:
    if kind is not ColumnKind.CATEGORICAL or len(series) < 20:
        return False
    return series.nunique(dropna=True) == len(series)


def infer_task(target: pd.Series) -> TaskKind:
    """Classification for labels, booleans and small integer sets; regression otherwise.

    Raises:
        DataError: when the target has fewer than two distinct values.
    """
    values = target.dropna()
    distinct = values.nunique()
    if distinct < 2:
        raise DataError(
            f"target column {target.name!r} has {distinct} distinct value(s); need at least 2",
            field="target",
        )
    numeric = pd.api.types.is_numeric_dtype(values) and not pd.api.types.is_bool_dtype(values)
    if numeric:
        integral = bool(np.all(np.mod(values.to_numpy(dtype=float), 1) == 0))
        if not (integral and distinct <= MAX_CLASSES_FROM_INTEGERS):
            return TaskKind.REGRESSION
    return TaskKind.BINARY if distinct == 2 else TaskKind.MULTICLASS
