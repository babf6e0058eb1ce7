"""Writes for data sets: import a file, store a frame as a new immutable version."""

from __future__ import annotations

import re
import uuid
from pathlib import Path

import numpy as np
import pandas as pd
from django.conf import settings
from django.db import IntegrityError, transaction
from django.db.models import Max

from neural.datasets import storage
from neural.datasets.importers import read_file
from neural.datasets.models import Dataset, Pattern
from neural.datasets.quality import quality_report
from neural.engine.schema import ColumnKind, infer_schema, infer_task
from neural.errors import Conflict, DataError

NAME_RE = re.compile(r"^[A-Za-z0-9][A-Za-z0-9_.-]{0,99}$")
ID_NAME = re.compile(r"(^|[_.\s-])(id|uuid|guid|key)$|Id$|ID$", re.IGNORECASE)
SPLIT_COLUMN = "__split__"
SCHEMA_SAMPLE_ROWS = 20_000


def validate_name(name: str) -> str:
    if not NAME_RE.match(name or ""):
        raise DataError(
            "name must be 1-100 letters, digits, '.', '_' or '-', starting with a letter or digit", field="name"
        )
    return name


def validate_pattern(pattern: str) -> str:
    if pattern not in Pattern.values:
        raise DataError(f"unknown pattern {pattern!r}; expected one of {', '.join(Pattern.values)}", field="pattern")
    return pattern


def dataset_import(
    *,
    name: str,
    path: Path,
    target: str | None = None,
    pattern: str = Pattern.PREDICTION,
    owner=None,
    fmt: str | None = None,
    source_format: str | None = None,
) -> Dataset:
    """Read a file in any registered format (``fmt``, or detected), and store it as a new version.

    ``target`` defaults to the format's natural target (``success`` for task histories).
    """
    validate_name(name)
    validate_pattern(pattern)
    check_size(path.stat().st_size)
    df, importer = read_file(path, fmt or source_format)
    target = target or importer.default_target
    if not target:
        raise DataError(
            f"name the column to predict (target); columns are: {', '.join(map(str, df.columns))}", field="target"
        )
    return dataset_store_frame(
        df=df, name=name, target=target, pattern=pattern, owner=owner, source_format=importer.name
    )


def check_size(size: int) -> None:
    """Refuse a file over ``DATA_UPLOAD_MAX_MB`` before reading any of it."""
    limit_mb = settings.DATA_UPLOAD_MAX_MB
    if size > limit_mb * 1024 * 1024:
        raise DataError(
            f"file is {size / 1048576:.1f} MB, over the {limit_mb} MB limit (DATA_UPLOAD_MAX_MB)", field="file"
        )


def build_schema(df: pd.DataFrame, target: str, overrides: dict | None = None) -> list[dict]:
    """The engine's inferred schema, plus integer identifiers flagged, plus the user's overrides."""
    schema = [c.to_dict() for c in infer_schema(_schema_sample(df), target)]
    for spec in schema:
        name = spec["name"]
        if spec["reason"] == "all values missing" and df[name].notna().any():
            spec.update(excluded=False, reason="")  # only the sample was empty
        if name == SPLIT_COLUMN:
            spec.update(excluded=True, reason="split assignment (train / validation), not a feature")
        elif name != target and not spec["excluded"] and _looks_like_identifier(df[name], spec["kind"]):
            spec.update(excluded=True, reason="identifier: unique per row")
    return apply_overrides(schema, overrides or {}, target=target)


def _schema_sample(df: pd.DataFrame) -> pd.DataFrame:
    """Kinds are judged on a fixed sample of rows (large files would spend seconds formatting
    dates as text); a column unique per row stays unique in a sample. The caller re-checks the
    sample's "all values missing" verdicts on the whole frame."""
    return df.sample(SCHEMA_SAMPLE_ROWS, random_state=0) if len(df) > SCHEMA_SAMPLE_ROWS else df


def _looks_like_identifier(series: pd.Series, kind: str) -> bool:
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


def apply_overrides(schema: list[dict], overrides: dict, *, target: str) -> list[dict]:
    """Apply ``{column: {kind?, excluded?}}``; unknown columns or kinds are errors naming them."""
    by_name = {c["name"]: c for c in schema}
    kinds = [k.value for k in ColumnKind]
    for column, change in overrides.items():
        field = f"schema.{column}"
        if column not in by_name:
            raise DataError(f"no column {column!r}; columns are: {', '.join(by_name)}", field=field)
        if not isinstance(change, dict) or not set(change) <= {"kind", "excluded"} or not change:
            raise DataError("expected {kind?, excluded?}", field=field)
        spec = by_name[column]
        if "kind" in change:
            if change["kind"] not in kinds:
                raise DataError(f"unknown kind {change['kind']!r}; expected one of {', '.join(kinds)}", field=field)
            spec["kind"] = change["kind"]
            spec["reason"] = spec.get("reason") or "kind set by the user"
        if "excluded" in change:
            if not isinstance(change["excluded"], bool):
                raise DataError("excluded must be true or false", field=field)
            if column == target and change["excluded"]:
                raise DataError("the target cannot be excluded", field=field)
            spec["excluded"] = change["excluded"]
            spec["reason"] = "excluded by the user" if change["excluded"] else "included by the user"
        spec["overridden"] = True
    return schema


def dataset_store_frame(
    *,
    df: pd.DataFrame,
    name: str,
    target: str,
    pattern: str,
    owner=None,
    source_format: str,
    parent: Dataset | None = None,
    operation: dict | None = None,
    overrides: dict | None = None,
    split: dict | None = None,
) -> Dataset:
    """Store ``df`` as the next version of ``name``. On any failure no row and no file remain."""
    validate_name(name)
    if target not in df.columns:
        raise DataError(
            f"target column {target!r} is not in the file; columns are: {', '.join(map(str, df.columns))}",
            field="target",
        )
    task = infer_task(df[target])
    schema = build_schema(df, target, overrides)
    usable = [c for c in schema if c["name"] != target and not c["excluded"]]
    if df[target].isna().all():
        raise DataError(f"target column {target!r} has every value missing", field="target")
    if not usable:
        empty = [c["name"] for c in schema if c["reason"] == "all values missing"]
        detail = f"; every value is missing in: {', '.join(empty)}" if empty else " (all are identifiers)"
        raise DataError(f"no usable feature columns besides the target{detail}", field="file")
    report = quality_report(df, target=target, schema=schema)
    version = (Dataset.objects.filter(name=name).aggregate(v=Max("version"))["v"] or 0) + 1
    # A unique file name per attempt: a concurrent import of the same name never overwrites ours.
    relative = f"{name}/v{version}-{uuid.uuid4().hex[:12]}.parquet"
    path, sha, size = storage.write_parquet(df, relative)
    try:
        with transaction.atomic():
            return Dataset.objects.create(
                name=name,
                version=version,
                parent=parent,
                pattern=pattern,
                target=target,
                task=str(task),
                rows=len(df),
                schema=schema,
                file=relative,
                sha256=sha,
                size_bytes=size,
                source_format=source_format,
                owner=owner,
                quality=report,
                column_overrides=overrides or {},
                operation=operation or {},
                split=split,
            )
    except IntegrityError as exc:
        path.unlink(missing_ok=True)
        raise Conflict(f"another version of {name!r} was stored at the same moment; try again", field="name") from exc
    except BaseException:
        path.unlink(missing_ok=True)
        raise


def dataset_set_schema(*, dataset: Dataset, overrides: dict) -> Dataset:
    """Override column kinds / exclusion. The data (and its checksum) stay as they are."""
    df = dataset_load_frame(dataset)
    merged = {**dataset.column_overrides}
    for column, change in overrides.items():
        merged[column] = {**merged.get(column, {}), **change} if isinstance(change, dict) else change
    schema = build_schema(df, dataset.target, merged)
    if not any(c["name"] != dataset.target and not c["excluded"] for c in schema):
        raise DataError("at least one feature column must stay included", field="schema")
    Dataset.objects.filter(pk=dataset.pk).update(schema=schema, column_overrides=merged)
    dataset.refresh_from_db()
    return dataset


def dataset_load_frame(dataset: Dataset) -> pd.DataFrame:
    return storage.read_parquet(dataset.file)
