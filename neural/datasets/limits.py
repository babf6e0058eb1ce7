"""Caps on what an imported file holds once decoded, checked before it is decoded where the
format says (Parquet metadata, SQLite row counts, the FANN header) and while it is read otherwise.

A small file can stand for a huge table (a Parquet file of 20 M zero rows is a few hundred KB),
so the upload limit alone, which counts the bytes sent, does not bound the memory an import
takes. Each cap comes from settings and each refusal is a 400 naming the ``file`` field:

- ``DATA_MAX_ROWS`` rows and ``DATA_MAX_CELLS`` rows x columns, for every format;
- ``DATA_MAX_DECODED_MB`` of decoded (uncompressed) data;
- ``JSON_MAX_DEPTH`` levels of nesting in a JSON document (uploads and request bodies).
"""

from __future__ import annotations

import json
from collections.abc import Iterable, Iterator
from typing import Any

import pyarrow as pa
from django.conf import settings

from neural.api.parsers import deeper_than
from neural.errors import DataError

MB = 1024 * 1024


def check_shape(rows: int, columns: int, *, what: str = "file", field: str = "file") -> None:
    """Refuse a table over DATA_MAX_ROWS rows or DATA_MAX_CELLS rows x columns."""
    if rows > settings.DATA_MAX_ROWS:
        raise DataError(
            f"{what} holds {rows:,} rows, over the {settings.DATA_MAX_ROWS:,} row limit (DATA_MAX_ROWS)", field=field
        )
    if rows * columns > settings.DATA_MAX_CELLS:
        raise DataError(
            f"{what} holds {rows:,} rows x {columns:,} columns, over the {settings.DATA_MAX_CELLS:,} "
            "cell limit (DATA_MAX_CELLS)",
            field=field,
        )


def check_decoded(size: int, *, what: str = "file", field: str = "file") -> None:
    """Refuse data that decodes to more than DATA_MAX_DECODED_MB."""
    if size > settings.DATA_MAX_DECODED_MB * MB:
        raise DataError(
            f"{what} decodes to {size / MB:,.0f} MB, over the {settings.DATA_MAX_DECODED_MB} MB limit "
            "(DATA_MAX_DECODED_MB)",
            field=field,
        )


def counted_batches(batches: Iterable[pa.RecordBatch], *, columns: int) -> Iterator[pa.RecordBatch]:
    """Pass record batches on, refusing the stream at the first batch that takes it over a cap."""
    rows = size = 0
    for batch in batches:
        rows += batch.num_rows
        size += batch.nbytes
        check_shape(rows, columns)
        check_decoded(size)
        yield batch


def check_depth(document: Any, *, what: str = "JSON", field: str = "file") -> Any:
    """Refuse a parsed JSON value nested deeper than JSON_MAX_DEPTH; return it otherwise."""
    if deeper_than(document, settings.JSON_MAX_DEPTH):
        raise DataError(f"{what} is nested deeper than {settings.JSON_MAX_DEPTH} levels (JSON_MAX_DEPTH)", field=field)
    return document


def loads(text: str | bytes, *, what: str = "JSON", field: str = "file") -> Any:
    """``json.loads`` with the depth cap; a document too deep for the parser itself is refused
    the same way (json raises RecursionError there).

    Raises:
        json.JSONDecodeError: not JSON (the caller names the line).
        DataError: nested too deep.
    """
    try:
        document = json.loads(text)
    except RecursionError as exc:
        raise DataError(
            f"{what} is nested deeper than {settings.JSON_MAX_DEPTH} levels (JSON_MAX_DEPTH)", field=field
        ) from exc
    return check_depth(document, what=what, field=field)
