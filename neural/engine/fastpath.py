"""A pandas-free record -> tensor path for serving, identical in output to
``TabularPredictor.predict_records`` (tests/registry/test_fastpath.py compares them).

The preprocessing rules are the ones in ``preprocessing.py``; this module re-implements only the
transform of already-validated JSON records, column by column with plain Python and numpy,
because building a DataFrame costs milliseconds per request. Where pandas' own type inference
decides an outcome (how a column of mixed values is turned into strings), the same decision is
made here from the values of the batch.
"""

from __future__ import annotations

import math
from datetime import UTC, datetime

import numpy as np
import pandas as pd
import torch

from neural.engine import preprocessing
from neural.engine.ensemble import EnsemblePredictor, combine
from neural.engine.errors import InputValidationError
from neural.engine.predictor import TabularPredictor
from neural.engine.preprocessing import _TRUE_STRINGS, CLIP, _type_problem
from neural.engine.schema import ColumnKind

# Column kinds this module transforms itself; a model with any other kind (free text, tags)
# goes through the engine's pandas transform, unchanged.
FAST_KINDS = {ColumnKind.NUMERIC, ColumnKind.BOOLEAN, ColumnKind.DATETIME, ColumnKind.CATEGORICAL}

_NAN = float("nan")
_NUMBER_TYPES = {int, float, type(None)}
_STR_TYPES = {str, type(None)}
_BOOL_TYPES = {bool, type(None)}


def _parse_datetime(value: object) -> datetime | None:
    """ISO 8601 strings quickly; None when only pandas' "mixed" parser could tell."""
    if not isinstance(value, str):
        return None
    try:
        stamp = datetime.fromisoformat(value)
    except ValueError:
        return None
    return stamp.replace(tzinfo=UTC) if stamp.tzinfo is None else stamp.astimezone(UTC)


def _datetime_parts(values: list) -> dict[str, np.ndarray]:
    parsed = [None if v is None else _parse_datetime(v) for v in values]
    if any(p is None and v is not None for p, v in zip(parsed, values, strict=True)):
        stamps = pd.to_datetime(pd.Series(values, dtype=object), errors="coerce", utc=True, format="mixed")
        return {p: getattr(stamps.dt, p).astype("float64").to_numpy() for p in ("hour", "day_of_week", "day", "month")}
    pick = {
        "hour": lambda d: d.hour,
        "day_of_week": lambda d: d.weekday(),
        "day": lambda d: d.day,
        "month": lambda d: d.month,
    }
    return {
        part: np.array([_NAN if d is None else float(fn(d)) for d in parsed], dtype=np.float64)
        for part, fn in pick.items()
    }


def _is_number(v: object) -> bool:
    return isinstance(v, (int, float)) and not isinstance(v, bool)


def _bool_values(values: list) -> np.ndarray:
    present = [v for v in values if v is not None]
    numeric_column = all(_is_number(v) for v in present) and bool(present)
    bool_column = all(isinstance(v, bool) for v in values)
    if bool_column or numeric_column:
        return np.array([_NAN if v is None else float(v) for v in values], dtype=np.float64)
    return np.array(
        [_NAN if v is None else (1.0 if str(v).strip().lower() in _TRUE_STRINGS else 0.0) for v in values],
        dtype=np.float64,
    )


def _category_strings(values: list) -> list[str | None]:
    present = [v for v in values if v is not None]
    as_float = (
        bool(present)
        and all(_is_number(v) for v in present)
        and (len(present) < len(values) or any(isinstance(v, float) for v in present))
    )
    if as_float:  # pandas makes such a column float64, whose strings read "3.0"
        return [None if v is None else str(float(v)) for v in values]
    return [None if v is None else str(v) for v in values]


class FastPredictor:
    """Wraps a TabularPredictor; same answers, without building a DataFrame."""

    def __init__(self, predictor: TabularPredictor) -> None:
        self.predictor = predictor
        pre = predictor.preprocessor
        self.kinds = {c.name: c.kind for c in pre.features}
        self.names = set(self.kinds)
        self.lookups = [
            (cat["name"], {value: i + 1 for i, value in enumerate(cat["vocab"])}) for cat in pre.categorical_
        ]
        self.scores = {
            num["name"]: preprocessing.QuantileScore(num["quantiles"]) for num in pre.numeric_ if "quantiles" in num
        }
        self.labels = predictor.encoder.classes_
        self.keys = [str(label) for label in self.labels]
        # Text and tag columns are not FAST_KINDS: those models take the engine's own path.
        self.fast = set(self.kinds.values()) <= FAST_KINDS

    @property
    def meta(self) -> dict:
        return self.predictor.meta

    @property
    def feature_names(self) -> list[str]:
        return self.predictor.feature_names

    def _all_valid(self, records: list[dict]) -> bool:
        """A column-at-a-time check that only says yes when every value is plainly fine (the
        common case); any doubt returns False and the row-by-row check below names the problems."""
        names = self.names
        if not all(type(r) is dict and r.keys() == names for r in records):
            return False
        for name, kind in self.kinds.items():
            values = [r[name] for r in records]
            types = set(map(type, values))
            if kind is ColumnKind.NUMERIC:
                if not types <= _NUMBER_TYPES:
                    return False
                numbers = [v for v in values if v is not None] if type(None) in types else values
                try:
                    if not np.isfinite(np.array(numbers, dtype=np.float64)).all():
                        return False
                except OverflowError:
                    return False
            elif kind is ColumnKind.CATEGORICAL or kind is ColumnKind.BOOLEAN:
                if not types <= (_STR_TYPES if kind is ColumnKind.CATEGORICAL else _BOOL_TYPES):
                    return False
            elif kind is ColumnKind.DATETIME:
                if any(v is not None and _parse_datetime(v) is None for v in values):
                    return False
            else:
                return False
        return True

    def validate(self, records: list[dict]) -> None:
        """Same problems, same names, as ``TabularPreprocessor.validate_records``."""
        if self._all_valid(records):
            return
        problems: dict[str, str] = {}
        for i, record in enumerate(records):
            prefix = f"inputs[{i}]." if len(records) > 1 else ""
            if not isinstance(record, dict):
                problems[prefix.rstrip(".") or "input"] = "must be an object of feature values"
                continue
            if record.keys() != self.names:
                for name in self.names - record.keys():
                    problems[prefix + name] = "missing field"
                for name in record.keys() - self.names:
                    problems[prefix + name] = "unknown field"
            for name, kind in self.kinds.items():
                value = record.get(name)
                if value is None:
                    continue
                if kind is ColumnKind.NUMERIC and _is_number(value) and math.isfinite(value):
                    continue
                if kind is ColumnKind.CATEGORICAL and isinstance(value, str):
                    continue
                if kind is ColumnKind.DATETIME and _parse_datetime(value) is not None:
                    continue
                problem = _type_problem(value, kind)
                if problem:
                    problems[prefix + name] = problem
        if problems:
            raise InputValidationError(dict(sorted(problems.items())))

    def transform(self, records: list[dict]) -> tuple[np.ndarray, np.ndarray]:
        pre = self.predictor.preprocessor
        if not self.fast:
            return pre.transform(pd.DataFrame.from_records(records, columns=self.feature_names))
        n = len(records)
        sources: dict[str, np.ndarray] = {}
        for column in dict.fromkeys(num["column"] for num in pre.numeric_):
            values = [r.get(column) for r in records]
            kind = self.kinds[column]
            if kind is ColumnKind.DATETIME:
                sources.update({f"{column}.{p}": a for p, a in _datetime_parts(values).items()})
            elif kind is ColumnKind.BOOLEAN:
                sources[column] = _bool_values(values)
            else:
                sources[column] = np.array([_NAN if v is None else float(v) for v in values], dtype=np.float64)
        x_num = np.empty((n, pre.n_numeric), dtype=np.float64)
        j = 0
        for num in pre.numeric_:
            raw = sources[num["name"]]
            missing = ~np.isfinite(raw)
            filled = np.where(missing, num["median"], raw)
            if "quantiles" in num:
                x_num[:, j] = self.scores[num["name"]](filled)
            else:
                x_num[:, j] = np.clip((filled - num["median"]) / num["scale"], -CLIP, CLIP)
            j += 1
            if num["indicator"]:
                x_num[:, j] = missing
                j += 1
        x_cat = np.zeros((n, len(self.lookups)), dtype=np.int64)
        for k, (name, lookup) in enumerate(self.lookups):
            strings = _category_strings([r.get(name) for r in records])
            x_cat[:, k] = [0 if s is None else lookup.get(s, 0) for s in strings]
        return x_num.astype(np.float32), x_cat

    def forward(self, records: list[dict]) -> torch.Tensor:
        x_num, x_cat = self.transform(records)
        with torch.inference_mode():
            return self.predictor.network(torch.from_numpy(x_num), torch.from_numpy(x_cat)).float()

    def predict_columns(self, records: list[dict]) -> tuple[list, list[list[float]] | None]:
        """Validate then predict, as columns: each row's label (or regression value) and, for a
        classifier, its probabilities rounded to 6 decimals in ``self.keys`` order (else None)."""
        self.validate(records)
        out = self.forward(records)
        encoder = self.predictor.encoder
        if not encoder.task.is_classification:
            return [float(v) for v in encoder.inverse_regression(out.squeeze(-1).numpy())], None
        proba = torch.softmax(out, dim=1).numpy()
        rounded = np.round(proba.astype(np.float64), 6).tolist()
        labels = self.labels
        return [labels[b] for b in proba.argmax(axis=1).tolist()], rounded

    def predict_records(self, records: list[dict]) -> list[dict]:
        """Validate then predict; the same result dicts as TabularPredictor.predict_records."""
        values, rounded = self.predict_columns(records)
        if rounded is None:
            return [{"prediction": v} for v in values]
        keys = self.keys
        return [
            {"prediction": v, "probabilities": dict(zip(keys, p, strict=True))}
            for v, p in zip(values, rounded, strict=True)
        ]


class FastEnsemble:
    """Wraps an EnsemblePredictor with the same interface as FastPredictor: the records are
    validated once and transformed once per distinct fitted preprocessing (``groups``), every
    member runs on that batch, and the stacked outputs are combined."""

    def __init__(self, ensemble: EnsemblePredictor) -> None:
        self.predictor = ensemble
        self.members = [FastPredictor(m) for m in ensemble.members]
        first = self.members[0]
        self.labels, self.keys = first.labels, first.keys

    @property
    def meta(self) -> dict:
        return self.predictor.meta

    @property
    def feature_names(self) -> list[str]:
        return self.predictor.feature_names

    def validate(self, records: list[dict]) -> None:
        self.members[0].validate(records)  # every member reads the same columns

    def predict_columns(self, records: list[dict]) -> tuple[list, list[list[float]] | None]:
        """Validate then predict, as columns (see ``FastPredictor.predict_columns``)."""
        self.validate(records)
        ensemble = self.predictor
        inputs = [self.members[group[0]].transform(records) for group in ensemble.groups]
        output = combine(ensemble.method, ensemble.outputs_from_inputs(inputs), ensemble.params)
        if not ensemble.encoder.task.is_classification:
            return [float(v) for v in output], None
        labels = self.labels
        return [labels[b] for b in output.argmax(axis=1).tolist()], np.round(output, 6).tolist()

    def predict_records(self, records: list[dict]) -> list[dict]:
        values, rounded = self.predict_columns(records)
        if rounded is None:
            return [{"prediction": v} for v in values]
        return [
            {"prediction": v, "probabilities": dict(zip(self.keys, p, strict=True))}
            for v, p in zip(values, rounded, strict=True)
        ]


def fast_predictor(predictor: TabularPredictor | EnsemblePredictor) -> FastPredictor | FastEnsemble:
    """The serving wrapper of a loaded predictor (a single network or an ensemble)."""
    if isinstance(predictor, EnsemblePredictor):
        return FastEnsemble(predictor)
    return FastPredictor(predictor)
