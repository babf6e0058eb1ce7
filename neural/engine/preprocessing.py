"""Feature preprocessing fitted on the training split only and saved as JSON in ``model.json``.

Numerics: median imputation, then robust scaling ((x - median) / IQR) clipped to a sane range or
a quantile transform (through the training split's quantiles to a normal score), plus a
missing-value indicator for every column that had gaps in training. Booleans become 0/1.
Datetimes: hour, day of week, day of month and month, each scaled like a numeric.
Categoricals: an index per seen value for an embedding; index 0 is the "unknown" slot used for
missing values and for categories never seen in training.
Free text: a hashed bag of words (a stable CRC32 of each lower-cased word into a fixed number of
buckets), weighted by log term frequency times the training split's inverse document frequency,
L2-normalised per row.
Tag lists: multi-hot over the training split's most frequent tags, plus one "unseen tag" input.
Text and tag inputs join the numeric block (they are already on a small scale).
"""

from __future__ import annotations

import math
import re
import zlib
from dataclasses import dataclass, field

import numpy as np
import pandas as pd
from scipy.special import ndtri

from neural.engine.errors import DataError, InputValidationError
from neural.engine.schema import (
    TAG_DELIMITERS,
    ColumnKind,
    ColumnSpec,
    TaskKind,
    detect_tag_delimiter,
    split_tags,
)

CLIP = 10.0
MAX_CATEGORIES = 1000
TEXT_BUCKETS = 256
MAX_TAGS = 100
_TOKEN = re.compile(r"[a-z0-9]{2,}")
QUANTILES = 101
_TRUE_STRINGS = {"true", "1", "yes", "y", "t"}


DATETIME_PARTS = ("hour", "day_of_week", "day", "month")


def _datetime_parts(series: pd.Series) -> dict[str, np.ndarray]:
    stamps = pd.to_datetime(series, errors="coerce", utc=True, format="mixed")
    return {part: getattr(stamps.dt, part).astype("float64").to_numpy() for part in DATETIME_PARTS}


def _numeric_sources(df: pd.DataFrame, spec: ColumnSpec) -> dict[str, np.ndarray]:
    """The numeric input(s) one column contributes, by name."""
    col = df[spec.name]
    if spec.kind is ColumnKind.DATETIME:
        return {f"{spec.name}.{part}": values for part, values in _datetime_parts(col).items()}
    if spec.kind is ColumnKind.BOOLEAN:
        return {spec.name: _as_bool_float(col)}
    return {spec.name: _numeric(col)}


def _as_bool_float(series: pd.Series) -> np.ndarray:
    if pd.api.types.is_bool_dtype(series) or pd.api.types.is_numeric_dtype(series):
        return series.astype("float64").to_numpy()
    lowered = series.astype("string").str.strip().str.lower()
    out = lowered.isin(_TRUE_STRINGS).astype("float64").to_numpy()
    out[series.isna().to_numpy()] = np.nan
    return out


@dataclass
class TabularPreprocessor:
    """Turns a DataFrame into (numeric float32 matrix, categorical int64 matrix)."""

    columns: list[ColumnSpec] = field(default_factory=list)
    scaling: str = "robust"
    numeric_: list[dict] = field(default_factory=list)
    categorical_: list[dict] = field(default_factory=list)
    text_: list[dict] = field(default_factory=list)
    tags_: list[dict] = field(default_factory=list)

    def fit(self, df: pd.DataFrame) -> TabularPreprocessor:
        self.numeric_, self.categorical_, self.text_, self.tags_ = [], [], [], []
        for spec in self.features:
            if spec.kind is ColumnKind.CATEGORICAL:
                counts = df[spec.name].dropna().astype(str).value_counts()
                self.categorical_.append({"name": spec.name, "vocab": list(counts.index[:MAX_CATEGORIES])})
                continue
            if spec.kind is ColumnKind.TEXT:
                self.text_.append(_fit_text(df[spec.name]))
                continue
            if spec.kind is ColumnKind.TAGS:
                self.tags_.append(_fit_tags(df[spec.name]))
                continue
            for name, values in _numeric_sources(df, spec).items():
                finite = values[np.isfinite(values)]
                median = float(np.median(finite)) if finite.size else 0.0
                q1, q3 = np.percentile(finite, [25, 75]) if finite.size else (0.0, 0.0)
                scale = float(q3 - q1) or (float(np.std(finite)) if finite.size else 1.0)
                self.numeric_.append(
                    {
                        "name": name,
                        "column": spec.name,
                        "median": median,
                        "scale": scale if scale and math.isfinite(scale) else 1.0,
                        "indicator": bool(np.isnan(values).any()),
                        **({"quantiles": _quantiles(finite, median)} if self.scaling == "quantile" else {}),
                    }
                )
        return self

    @property
    def features(self) -> list[ColumnSpec]:
        return [c for c in self.columns if not c.excluded]

    @property
    def n_numeric(self) -> int:
        numeric = sum(1 + int(n["indicator"]) for n in self.numeric_)
        return numeric + sum(t["buckets"] for t in self.text_) + sum(len(t["vocab"]) + 1 for t in self.tags_)

    @property
    def cardinalities(self) -> list[int]:
        return [len(c["vocab"]) + 1 for c in self.categorical_]

    def transform(self, df: pd.DataFrame) -> tuple[np.ndarray, np.ndarray]:
        specs = {c.name: c for c in self.features}
        sources: dict[str, np.ndarray] = {}
        for column in dict.fromkeys(n["column"] for n in self.numeric_):
            sources.update(_numeric_sources(df, specs[column]))
        parts = []
        for num in self.numeric_:
            raw = sources[num["name"]]
            missing = ~np.isfinite(raw)
            filled = np.where(missing, num["median"], raw)
            if "quantiles" in num:
                parts.append(_quantile_score(filled, np.asarray(num["quantiles"])))
            else:
                parts.append(np.clip((filled - num["median"]) / num["scale"], -CLIP, CLIP))
            if num["indicator"]:
                parts.append(missing.astype("float64"))
        blocks = [np.column_stack(parts)] if parts else []
        blocks += [_transform_text(df[t["name"]], t) for t in self.text_]
        blocks += [_transform_tags(df[t["name"]], t) for t in self.tags_]
        x_num = np.hstack(blocks).astype(np.float32) if blocks else np.zeros((len(df), 0), np.float32)
        cats = []
        for cat in self.categorical_:
            lookup = {value: i + 1 for i, value in enumerate(cat["vocab"])}
            col = df[cat["name"]]
            mapped = col.astype(str).map(lookup).where(col.notna(), 0)
            cats.append(mapped.fillna(0).to_numpy(dtype=np.int64))
        x_cat = np.column_stack(cats) if cats else np.zeros((len(df), 0), np.int64)
        return x_num, x_cat

    def validate_records(self, records: list[dict]) -> None:
        """Check prediction input against the feature schema.

        Raises:
            InputValidationError: listing each missing, extra or wrongly typed field,
                prefixed with the record index when there is more than one record.
        """
        problems: dict[str, str] = {}
        kinds = {c.name: c.kind for c in self.features}
        for i, record in enumerate(records):
            prefix = f"inputs[{i}]." if len(records) > 1 else ""
            if not isinstance(record, dict):
                problems[prefix.rstrip(".") or "input"] = "must be an object of feature values"
                continue
            for name in kinds.keys() - record.keys():
                problems[prefix + name] = "missing field"
            for name in record.keys() - kinds.keys():
                problems[prefix + name] = "unknown field"
            for name, kind in kinds.items():
                if name in record:
                    problem = _type_problem(record[name], kind)
                    if problem:
                        problems[prefix + name] = problem
        if problems:
            raise InputValidationError(dict(sorted(problems.items())))

    def to_dict(self) -> dict:
        return {
            "columns": [c.to_dict() for c in self.columns],
            "scaling": self.scaling,
            "numeric": self.numeric_,
            "categorical": self.categorical_,
            "text": self.text_,
            "tags": self.tags_,
        }

    @classmethod
    def from_dict(cls, data: dict) -> TabularPreprocessor:
        pre = cls(columns=[ColumnSpec.from_dict(c) for c in data["columns"]], scaling=data.get("scaling", "robust"))
        pre.numeric_ = data["numeric"]
        pre.categorical_ = data["categorical"]
        pre.text_ = data.get("text", [])
        pre.tags_ = data.get("tags", [])
        return pre


def _quantiles(finite: np.ndarray, median: float) -> list[float]:
    if not finite.size:
        return [median, median]
    return [float(q) for q in np.quantile(finite, np.linspace(0, 1, QUANTILES))]


def _quantile_score(values: np.ndarray, quantiles: np.ndarray) -> np.ndarray:
    """Empirical CDF by interpolation through the quantiles (ties averaged), then a normal score."""
    return QuantileScore(quantiles)(values)


class QuantileScore:
    """``_quantile_score`` for one column with its arrays built once: the serving path scores a
    model's columns on every request, where building them cost more than the scoring."""

    def __init__(self, quantiles) -> None:
        self.quantiles = np.asarray(quantiles, dtype=np.float64)
        self.ranks = np.linspace(0, 1, len(self.quantiles))
        self.mirrored = -self.quantiles[::-1]
        self.mirrored_ranks = self.ranks[::-1]

    def __call__(self, values: np.ndarray) -> np.ndarray:
        up = np.interp(values, self.quantiles, self.ranks)
        down = np.interp(-values, self.mirrored, self.mirrored_ranks)
        return ndtri(np.clip((up + down) / 2.0, 1e-3, 1 - 1e-3))


def _bucket_counts(series: pd.Series, buckets: int) -> np.ndarray:
    """Word counts per hash bucket, one row per value (missing values count nothing)."""
    out = np.zeros((len(series), buckets), dtype=np.float64)
    for row, value in enumerate(series.to_numpy()):
        if isinstance(value, str):
            for token in _TOKEN.findall(value.lower()):
                out[row, zlib.crc32(token.encode()) % buckets] += 1.0
    return out


def _fit_text(series: pd.Series, buckets: int = TEXT_BUCKETS) -> dict:
    counts = _bucket_counts(series, buckets)
    docs = (counts > 0).sum(axis=0)
    idf = np.log((1 + len(series)) / (1 + docs)) + 1.0
    return {"name": series.name, "buckets": buckets, "idf": np.round(idf, 6).tolist()}


def _transform_text(series: pd.Series, fitted: dict) -> np.ndarray:
    weights = np.log1p(_bucket_counts(series, fitted["buckets"])) * np.asarray(fitted["idf"])
    norms = np.linalg.norm(weights, axis=1, keepdims=True)
    return weights / np.where(norms > 0, norms, 1.0)


def _fit_tags(series: pd.Series) -> dict:
    values = series.dropna()
    delimiter = detect_tag_delimiter(values) or max(
        TAG_DELIMITERS, key=lambda d: values.astype(str).str.contains(d, regex=False).sum()
    )
    counts = pd.Series([t for v in series.dropna() for t in split_tags(v, delimiter)]).value_counts()
    return {"name": series.name, "delimiter": delimiter, "vocab": [str(t) for t in counts.index[:MAX_TAGS]]}


def _transform_tags(series: pd.Series, fitted: dict) -> np.ndarray:
    """Multi-hot over the fitted vocabulary; the last input flags tags never seen in training."""
    lookup = {tag: i for i, tag in enumerate(fitted["vocab"])}
    out = np.zeros((len(series), len(lookup) + 1), dtype=np.float64)
    for row, value in enumerate(series.to_numpy()):
        for tag in split_tags(value, fitted["delimiter"]):
            out[row, lookup.get(tag, len(lookup))] = 1.0
    return out


def _numeric(col: pd.Series) -> np.ndarray:
    return pd.to_numeric(col, errors="coerce").astype("float64").to_numpy()


def _type_problem(value: object, kind: ColumnKind) -> str | None:
    if value is None:
        return None  # an explicit null is a missing value, imputed as in training
    if kind is ColumnKind.NUMERIC:
        if isinstance(value, bool) or not isinstance(value, (int, float)):
            return "must be a number"
        if not math.isfinite(value):
            return "must be a finite number (NaN and infinity are refused)"
    elif kind is ColumnKind.BOOLEAN:
        if not isinstance(value, bool) and value not in (0, 1, "true", "false"):
            return "must be a boolean"
    elif kind is ColumnKind.TEXT:
        if not isinstance(value, str):
            return "must be a string"
    elif kind is ColumnKind.TAGS:
        if not isinstance(value, str) and not (
            isinstance(value, list) and all(isinstance(v, (str, int, float)) for v in value)
        ):
            return "must be a list of tags or a delimited string"
    elif kind is ColumnKind.DATETIME:
        if not isinstance(value, str) or pd.isna(pd.to_datetime(value, errors="coerce", utc=True, format="mixed")):
            return "must be a date/time string such as 2026-01-31T12:00:00Z"
    elif not isinstance(value, (str, int, float, bool)):
        return "must be a string or number"
    return None


@dataclass
class TargetEncoder:
    """Labels <-> class indices for classification; standardisation for regression."""

    task: TaskKind
    classes_: list = field(default_factory=list)
    mean_: float = 0.0
    std_: float = 1.0

    def fit(self, y: pd.Series) -> TargetEncoder:
        if self.task.is_classification:
            self.classes_ = sorted(pd.unique(y.dropna()).tolist(), key=lambda v: (str(type(v)), v))
        else:
            values = pd.to_numeric(y, errors="coerce").to_numpy(dtype="float64")
            self.mean_ = float(np.nanmean(values))
            self.std_ = float(np.nanstd(values)) or 1.0
        return self

    @property
    def n_outputs(self) -> int:
        return len(self.classes_) if self.task.is_classification else 1

    def transform(self, y: pd.Series) -> np.ndarray:
        if self.task.is_classification:
            lookup = {label: i for i, label in enumerate(self.classes_)}
            encoded = y.map(lookup)
            if encoded.isna().any():
                raise DataError("target has labels not seen in training", field="target")
            return encoded.to_numpy(dtype=np.int64)
        values = pd.to_numeric(y, errors="coerce").to_numpy(dtype="float64")
        return ((values - self.mean_) / self.std_).astype(np.float32)

    def inverse_regression(self, z: np.ndarray) -> np.ndarray:
        return z * self.std_ + self.mean_

    def to_dict(self) -> dict:
        return {
            "task": str(self.task),
            "classes": [_jsonable(c) for c in self.classes_],
            "mean": self.mean_,
            "std": self.std_,
        }

    @classmethod
    def from_dict(cls, data: dict) -> TargetEncoder:
        return cls(task=TaskKind(data["task"]), classes_=list(data["classes"]), mean_=data["mean"], std_=data["std"])


def _jsonable(value: object) -> object:
    return value.item() if isinstance(value, np.generic) else value
