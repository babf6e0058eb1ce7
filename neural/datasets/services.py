"""Writes for data sets: import, store a new version."""

from __future__ import annotations

import re
import uuid
from pathlib import Path

import pandas as pd
from django.db import IntegrityError, transaction
from django.db.models import Max

from neural.datasets import storage
from neural.datasets.models import Dataset, Pattern
from neural.engine.schema import infer_schema, infer_task
from neural.errors import Conflict, DataError

NAME_RE = re.compile(r"^[A-Za-z0-9][A-Za-z0-9_.-]{0,99}$")


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
    *, name: str, path: Path, target: str, pattern: str = Pattern.PREDICTION, owner=None, source_format: str = "csv"
) -> Dataset:
    """Read a CSV file, infer its schema and task, and store it as a new data set version."""
    validate_name(name)
    validate_pattern(pattern)
    df = storage.read_csv(path)
    return dataset_store_frame(
        df=df, name=name, target=target, pattern=pattern, owner=owner, source_format=source_format
    )


def dataset_store_frame(
    *,
    df: pd.DataFrame,
    name: str,
    target: str,
    pattern: str,
    owner=None,
    source_format: str,
    parent: Dataset | None = None,
) -> Dataset:
    """Store ``df`` as the next version of ``name``. On any failure no row and no file remain."""
    if target not in df.columns:
        raise DataError(
            f"target column {target!r} is not in the file; columns are: {', '.join(map(str, df.columns))}",
            field="target",
        )
    task = infer_task(df[target])
    schema = [c.to_dict() for c in infer_schema(df, target)]
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
            )
    except IntegrityError as exc:
        path.unlink(missing_ok=True)
        raise Conflict(f"another version of {name!r} was stored at the same moment; try again", field="name") from exc
    except BaseException:
        path.unlink(missing_ok=True)
        raise


def dataset_load_frame(dataset: Dataset) -> pd.DataFrame:
    return storage.read_parquet(dataset.file)
