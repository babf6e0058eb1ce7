"""Writes for data sets: import a file, store a frame as a new immutable version."""

from __future__ import annotations

import uuid
from pathlib import Path

import numpy as np
import pandas as pd
from django.conf import settings
from django.db import IntegrityError, transaction
from django.db.models import Max

from neural.datasets import limits, storage
from neural.datasets.importers import open_importer
from neural.datasets.models import Dataset, Pattern
from neural.datasets.quality import ColumnProfile, finish_report, profile_columns, sample_positions
from neural.engine.names import validate_name
from neural.engine.schema import (
    ID_NAME,
    ColumnKind,
    ColumnSpec,
    TaskKind,
    infer_schema,
    infer_task,
    looks_like_identifier,
)
from neural.errors import Conflict, DataError

SPLIT_COLUMN = "__split__"
SCHEMA_SAMPLE_ROWS = 20_000


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
    importer = open_importer(path, fmt or source_format)
    if hasattr(importer, "stream"):
        return _import_streamed(importer, path=path, name=name, target=target, pattern=pattern, owner=owner)
    df = importer.read(path)
    limits.check_shape(len(df), len(df.columns))
    df.columns = [str(c) for c in df.columns]
    target = _imported_target(importer, target, columns=df.columns, rows=len(df))
    return dataset_store_frame(
        df=df, name=name, target=target, pattern=pattern, owner=owner, source_format=importer.name
    )


def _import_streamed(importer, *, path: Path, name: str, target: str | None, pattern: str, owner) -> Dataset:
    """Stream the file into its Parquet form block by block, then judge it a column at a time:
    the whole table is never in memory. The file goes if anything after it fails."""
    version = _next_version(name)
    relative = _relative_path(name, version)
    stored, sha, size, rows = importer.stream(
        path,
        lambda schema, batches: storage.write_parquet_batches(
            schema, limits.counted_batches(batches, columns=len(schema)), relative
        ),
    )
    try:
        columns = storage.ParquetColumns(stored)
        target = _imported_target(importer, target, columns=columns.columns, rows=rows)
        task, schema, report = _profile(columns, target=target, overrides=None)
    except BaseException:
        stored.unlink(missing_ok=True)
        raise
    return _create_version(
        path=stored,
        relative=relative,
        sha=sha,
        size=size,
        rows=rows,
        name=name,
        version=version,
        pattern=pattern,
        target=target,
        task=task,
        schema=schema,
        report=report,
        owner=owner,
        source_format=importer.name,
    )


def _imported_target(importer, target: str | None, *, columns, rows: int) -> str:
    """The target of an imported file (the one named, else the format's own), once the file holds
    at least one row of two or more columns, each named once."""
    if rows == 0 or len(columns) < 2:
        raise DataError("file must hold at least one row with two or more columns", field="file")
    names = pd.Index([str(c) for c in columns])
    if names.has_duplicates:
        repeated = ", ".join(repr(c) for c in names[names.duplicated()].unique())
        raise DataError(
            f"column names must be unique; the file has more than one column named {repeated}", field="file"
        )
    target = target or importer.default_target
    if not target:
        raise DataError(
            f"name the column to predict (target); columns are: {', '.join(map(str, columns))}", field="target"
        )
    return target


def check_size(size: int) -> None:
    """Refuse a file over ``DATA_UPLOAD_MAX_MB`` before reading any of it."""
    limit_mb = settings.DATA_UPLOAD_MAX_MB
    if size > limit_mb * 1024 * 1024:
        raise DataError(
            f"file is {size / 1048576:.1f} MB, over the {limit_mb} MB limit (DATA_UPLOAD_MAX_MB)", field="file"
        )


def build_schema(df, target: str, overrides: dict | None = None, *, profile: ColumnProfile | None = None) -> list[dict]:
    """The engine's inferred schema, plus integer identifiers flagged, plus the user's overrides.

    ``df`` is a DataFrame or a ``storage.ParquetColumns``. With ``profile`` (one pass over the
    columns, asked with ``extra_sample_rows=SCHEMA_SAMPLE_ROWS``) no column is read again."""
    sample = profile.extra_sample if profile is not None else _schema_sample(df)
    schema = [c.to_dict() for c in _infer_schema(sample, target)]
    for spec in schema:
        name = spec["name"]
        if spec["reason"] == "all values missing" and _has_values(df, name, profile):
            spec.update(excluded=False, reason="")  # only the sample was empty
        if name == SPLIT_COLUMN:
            spec.update(excluded=True, reason="split assignment (train / validation), not a feature")
        elif name != target and not spec["excluded"] and _is_identifier(df, name, spec["kind"], profile):
            spec.update(excluded=True, reason="identifier: unique per row")
    return apply_overrides(schema, overrides or {}, target=target)


def _infer_schema(sample: pd.DataFrame, target: str) -> list:
    """``infer_schema(sample, target)``, with each datetime-typed column judged on one row of it:
    the engine formats a datetime column as text to rule out booleans (a date never is one), the
    costliest part of inferring a 20,000-row sample. A datetime column is DATETIME whatever its
    values; it is excluded as all missing when that row is, which it is only when the sample
    holds no value in it (tested against the engine on the whole sample)."""
    dates = [c for c in sample.columns if pd.api.types.is_datetime64_any_dtype(sample[c].dtype)]
    if not dates or sample.columns.has_duplicates:
        return infer_schema(sample, target)
    specs = {str(spec.name): spec for spec in infer_schema(sample.drop(columns=dates), target)}
    for name in dates:
        column = sample[[name]]
        one = column.dropna().head(1)
        specs[str(name)] = infer_schema(one if len(one) else column.head(1), target)[0]
    return [specs[str(name)] for name in sample.columns]


def _has_values(df, name: str, profile: ColumnProfile | None) -> bool:
    if profile is not None:
        return profile.present[name] > 0
    return bool(df[name].notna().any())


def _is_identifier(df, name: str, kind: str, profile: ColumnProfile | None) -> bool:
    if profile is None:
        return _may_be_identifier(df, name, kind) and looks_like_identifier(df[name], kind)
    rows, distinct = len(df), profile.distinct[name]
    if name in profile.integer_span:  # the facts _is_integer_identifier reads from the column
        if rows < 20 or distinct < 0.95 * rows:
            return False
        return bool(ID_NAME.search(str(name))) or (distinct == rows and profile.integer_span[name] == rows - 1)
    return kind == "categorical" and bool(ID_NAME.search(str(name))) and distinct >= 0.95 * rows and rows >= 5


def _schema_sample(df) -> pd.DataFrame:
    """Kinds are judged on a fixed sample of rows (large files would spend seconds formatting
    dates as text); a column unique per row stays unique in a sample. The caller re-checks the
    sample's "all values missing" verdicts on the whole frame. ``df`` may be read a column at a
    time (``storage.ParquetColumns``): the sample is then built column by column."""
    positions = sample_positions(len(df), SCHEMA_SAMPLE_ROWS)
    if isinstance(df, pd.DataFrame):
        return df if positions is None else df.take(positions)
    return pd.DataFrame({c: df[c] if positions is None else df[c].take(positions) for c in df.columns})


def _may_be_identifier(df, name: str, kind: str) -> bool:
    """Whether the whole column is worth reading for the identifier checks: integers (by their
    stored type), or categorical columns named like an id."""
    if kind == "categorical":
        return bool(ID_NAME.search(str(name)))
    if isinstance(df, storage.ParquetColumns):
        return df.is_integer(name)
    return True


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
    task, schema, report = _profile(df, target=target, overrides=overrides)
    version = _next_version(name)
    relative = _relative_path(name, version)
    path, sha, size = storage.write_parquet(df, relative)
    return _create_version(
        path=path,
        relative=relative,
        sha=sha,
        size=size,
        rows=len(df),
        name=name,
        version=version,
        pattern=pattern,
        target=target,
        task=task,
        schema=schema,
        report=report,
        owner=owner,
        source_format=source_format,
        parent=parent,
        operation=operation,
        overrides=overrides,
        split=split,
    )


def _profile(df, *, target: str, overrides: dict | None) -> tuple[str, list[dict], dict]:
    """Task, schema and quality report of ``df`` (a DataFrame or ``storage.ParquetColumns``),
    refusing a frame no model could learn from."""
    if target not in df.columns:
        raise DataError(
            f"target column {target!r} is not in the file; columns are: {', '.join(map(str, df.columns))}",
            field="target",
        )
    task = infer_task(df[target])
    profile = profile_columns(df, target=target, extra_sample_rows=SCHEMA_SAMPLE_ROWS)
    schema = build_schema(df, target, overrides, profile=profile)
    usable = [c for c in schema if c["name"] != target and not c["excluded"]]
    if profile.present[target] == 0:
        raise DataError(f"target column {target!r} has every value missing", field="target")
    if not usable:
        empty = [c["name"] for c in schema if c["reason"] == "all values missing"]
        detail = f"; every value is missing in: {', '.join(empty)}" if empty else " (all are identifiers)"
        raise DataError(f"no usable feature columns besides the target{detail}", field="file")
    return str(task), schema, finish_report(profile, schema=schema)


def _next_version(name: str) -> int:
    return (Dataset.objects.filter(name=name).aggregate(v=Max("version"))["v"] or 0) + 1


def _relative_path(name: str, version: int) -> str:
    # A unique file name per attempt: a concurrent import of the same name never overwrites ours.
    return f"{name}/v{version}-{uuid.uuid4().hex[:12]}.parquet"


def _create_version(
    *,
    path: Path,
    relative: str,
    sha: str,
    size: int,
    rows: int,
    name: str,
    version: int,
    pattern: str,
    target: str,
    task: str,
    schema: list[dict],
    report: dict,
    owner,
    source_format: str,
    parent: Dataset | None = None,
    operation: dict | None = None,
    overrides: dict | None = None,
    split: dict | None = None,
) -> Dataset:
    """The database row for a file already written; the file goes if the row cannot be made."""
    try:
        with transaction.atomic():
            return Dataset.objects.create(
                name=name,
                version=version,
                parent=parent,
                pattern=pattern,
                target=target,
                task=task,
                rows=rows,
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
    """Override column kinds / exclusion. The data (and its checksum) stay as they are; the
    schema is inferred again from the stored file a column at a time (never the whole table)."""
    df = storage.ParquetColumns(storage.stored_path(dataset.file))
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


def dataset_training_inputs(dataset: Dataset) -> dict:
    """What ``train_tabular`` takes from a stored data set, as its keyword arguments: the frame,
    the target, the column specs, the task and the data set's own test rows (``dataset_holdout``)."""
    df = dataset_load_frame(dataset)
    return {
        "df": df,
        "target": dataset.target,
        "columns": [ColumnSpec.from_dict(c) for c in dataset.schema],
        "task": TaskKind(dataset.task),
        "holdout": dataset_holdout(df),
    }


def dataset_holdout(df: pd.DataFrame) -> np.ndarray | None:
    """The rows a split data set holds out (its ``validation`` rows, from ``data split``): the
    engine's ``holdout``, the test rows of every model trained on it. None without a split."""
    if SPLIT_COLUMN not in df.columns:
        return None
    return (df[SPLIT_COLUMN] == "validation").to_numpy()
