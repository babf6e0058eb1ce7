"""Column kinds and task kinds, inferred from a pandas DataFrame."""

from __future__ import annotations

import json
import re
from dataclasses import asdict, dataclass
from enum import StrEnum

import numpy as np
import pandas as pd

from neural.engine.errors import DataError

MAX_CLASSES_FROM_INTEGERS = 20
# A column named like an identifier: ``id``, ``task_id``, ``agentId``, ``uuid``, ``run-key``...
ID_NAME = re.compile(r"(^|[_.\s-])(id|uuid|guid|key)$|Id$|ID$", re.IGNORECASE)
# A delimited column is a tag list when splitting it leaves a small vocabulary of short tags.
MAX_TAG_VOCAB = 200
TAG_DELIMITERS = (";", "|", ",")
JSON_LIST = "json"
_WORDS = re.compile(r"\S+")


class ColumnKind(StrEnum):
    NUMERIC = "numeric"
    CATEGORICAL = "categorical"
    BOOLEAN = "boolean"
    DATETIME = "datetime"
    TEXT = "text"
    TAGS = "tags"


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
    if detect_tag_delimiter(values) is not None:
        return ColumnKind.TAGS
    if _is_free_text(values):
        return ColumnKind.TEXT
    return ColumnKind.CATEGORICAL


def split_tags(value: object, delimiter: str) -> list[str]:
    """The tags of one cell: a list as is, a JSON list parsed, or text split on ``delimiter``."""
    if isinstance(value, (list, tuple, np.ndarray)):
        return [str(v).strip() for v in value if str(v).strip()]
    if pd.isna(value):
        return []
    text = str(value).strip()
    if delimiter == JSON_LIST or (text.startswith("[") and text.endswith("]")):
        try:
            parsed = json.loads(text)
        except ValueError:
            parsed = None
        if isinstance(parsed, list):
            return [str(v).strip() for v in parsed if str(v).strip()]
        if delimiter == JSON_LIST:
            return [text] if text else []
    return [t.strip() for t in text.split(delimiter) if t.strip()]


def detect_tag_delimiter(values: pd.Series) -> str | None:
    """The delimiter of a tag-list column (``"json"`` for JSON lists), or None when it is not one.

    A column is a tag list when at least 5% of its values hold several tags, splitting leaves
    no more distinct tags than distinct raw values, and the tags are few and short.
    """
    sample = values.head(5000)
    if sample.empty:
        return None
    if sample.map(lambda v: isinstance(v, (list, tuple))).all():
        return JSON_LIST if _small_vocab(sample, JSON_LIST) else None
    if pd.api.types.is_numeric_dtype(sample):
        return None
    text = sample.astype(str).str.strip()
    if (text.str.startswith("[") & text.str.endswith("]")).mean() >= 0.95:
        return JSON_LIST if _small_vocab(text, JSON_LIST) else None
    for delimiter in TAG_DELIMITERS:
        if text.str.contains(delimiter, regex=False).mean() >= 0.05 and _small_vocab(text, delimiter):
            return delimiter
    return None


def _small_vocab(values: pd.Series, delimiter: str) -> bool:
    lists = [split_tags(v, delimiter) for v in values]
    tags = {t for tags in lists for t in tags}
    distinct_raw = len({tuple(t) for t in lists})
    if not tags or len(tags) > MAX_TAG_VOCAB or len(tags) > distinct_raw:
        return False
    if not any(len(t) > 1 for t in lists):
        return False
    return all(len(t) <= 40 and len(_WORDS.findall(t)) <= 4 for t in tags)


def _is_free_text(values: pd.Series) -> bool:
    """Strings with long values, or with many distinct multi-word values."""
    if values.empty or pd.api.types.is_numeric_dtype(values):
        return False
    distinct = pd.Series(values.astype(str).unique())
    words = distinct.map(lambda v: len(_WORDS.findall(v)))
    if len(distinct) >= 5 and words.median() >= 6:
        return True
    many = len(distinct) > 20 and len(distinct) >= 0.5 * len(values)
    return bool(many and words.mean() >= 2)


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
        if name == target and kind in (ColumnKind.TEXT, ColumnKind.TAGS):
            kind = ColumnKind.CATEGORICAL  # a target is a label, never a bag of words
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


def looks_like_identifier(series: pd.Series, kind: str) -> bool:
    """The data sets' identifier rules, beyond ``infer_schema``'s own (categorical, unique per
    row, 20 rows or more): whole numbers nearly one per row, named like an id or consecutive; or
    text named like an id and nearly unique."""
    return _is_integer_identifier(series) or (kind == "categorical" and _unique_text(series))


def _is_integer_identifier(series: pd.Series) -> bool:
    """Whole numbers, (nearly) one per row, either named like an id or consecutive.

    Nearly: duplicated rows repeat their id, which must not hide it."""
    if not pd.api.types.is_integer_dtype(series) or len(series) < 20:
        return False
    distinct = series.nunique()
    if distinct < 0.95 * len(series):
        return False
    if ID_NAME.search(str(series.name)):
        return True
    values = np.sort(series.unique())
    return distinct == len(series) and bool(np.all(np.diff(values) == 1))


def _unique_text(series: pd.Series) -> bool:
    """Short frames (under the engine's 20-row rule) still have identifiers when they are named so."""
    return bool(ID_NAME.search(str(series.name))) and series.nunique() >= 0.95 * len(series) and len(series) >= 5
