"""Reading uploads and writing the canonical Parquet form, with nothing left behind on failure."""

from __future__ import annotations

import io
import os
import queue
import tempfile
import threading
from collections.abc import Iterable
from pathlib import Path

import pandas as pd
import pyarrow as pa
import pyarrow.parquet as pq
from django.conf import settings

from neural.engine.artifacts import sha256_file

# Row groups hold a fixed number of rows whatever the reader's block size, so the bytes (and the
# SHA-256) of a stored file depend only on its content; and a row group is what a reader holds.
ROW_GROUP_ROWS = 128 * 1024


# LZ4 (Parquet's LZ4_RAW): on a 1M x 30 file it writes about 25% and reads about 2x faster than
# zstd, for files about a third larger. Imports read every column back once for the quality
# report, and training reads whole files, so speed wins here.
PARQUET_COMPRESSION = "lz4"


def _writer_options(schema: pa.Schema) -> dict:
    # Dictionary pages pay off for text; for numbers they cost time and usually fall back to plain.
    texty = [f.name for f in schema if pa.types.is_string(f.type) or pa.types.is_large_string(f.type)]
    return {"compression": PARQUET_COMPRESSION, "use_dictionary": texty}


def write_parquet(df: pd.DataFrame, relative: str) -> tuple[Path, str, int]:
    """Write ``df`` as Parquet atomically under DATASET_STORAGE_PATH.

    Returns:
        (path, sha256, size in bytes).
    """
    table = pa.Table.from_pandas(df, preserve_index=False)
    path, sha, size, _ = write_parquet_batches(table.schema, table.to_batches(), relative)
    return path, sha, size


def write_parquet_batches(
    schema: pa.Schema, batches: Iterable[pa.RecordBatch], relative: str
) -> tuple[Path, str, int, int]:
    """Write record batches as Parquet atomically, holding at most about one row group in memory.

    A writer thread encodes and compresses while the caller's iterator parses the next batches
    (both release the GIL), with a queue of two batches between them.

    Returns:
        (path, sha256, size in bytes, rows).
    """
    target = Path(settings.DATASET_STORAGE_PATH) / relative
    target.parent.mkdir(parents=True, exist_ok=True)
    fd, tmp = tempfile.mkstemp(prefix=".", suffix=".parquet.tmp", dir=target.parent)
    os.close(fd)
    handoff: queue.Queue = queue.Queue(maxsize=2)
    outcome: dict = {"rows": 0, "error": None}

    def write() -> None:
        try:
            outcome["rows"] = _write_row_groups(tmp, schema, iter(handoff.get, _DONE))
        except BaseException as exc:  # handed to the caller's thread below
            outcome["error"] = exc
            for _ in iter(handoff.get, _DONE):
                pass  # keep taking batches so the producer never blocks

    writer = threading.Thread(target=write, name="parquet-writer", daemon=True)
    writer.start()
    try:
        try:
            for batch in batches:
                if outcome["error"] is not None:
                    break
                handoff.put(batch)
        finally:
            handoff.put(_DONE)
            writer.join()
        if outcome["error"] is not None:
            raise outcome["error"]
        os.replace(tmp, target)
    except BaseException:
        Path(tmp).unlink(missing_ok=True)
        raise
    return target, sha256_file(target), target.stat().st_size, outcome["rows"]


_DONE = object()

# An import keeps the batches it streams while their Arrow buffers total at most this many bytes,
# so the task, schema and quality report read the columns from memory instead of decoding the
# stored file again; a larger file is read back a column at a time. (1M x 30 benchmark file:
# about 230 MB of buffers.)
KEEP_BYTES = 256 * 1024 * 1024


class _Keeper:
    """Passes batches through, keeping them while they total at most ``limit`` bytes."""

    def __init__(self, batches: Iterable[pa.RecordBatch], limit: int):
        self._batches, self._limit = batches, limit
        self.kept: list[pa.RecordBatch] | None = [] if limit > 0 else None
        self._bytes = 0

    def __iter__(self):
        for batch in self._batches:
            if self.kept is not None:
                self._bytes += batch.nbytes
                if self._bytes > self._limit:
                    self.kept = None  # too big: read the stored file back instead
                else:
                    self.kept.append(batch)
            yield batch


def write_parquet_columns(
    schema: pa.Schema, batches: Iterable[pa.RecordBatch], relative: str, *, keep_bytes: int | None = None
) -> tuple[ParquetColumns, str, int, int]:
    """``write_parquet_batches``, returning the stored file as ``ParquetColumns``: backed by the
    batches themselves when they fit in ``keep_bytes`` (default ``KEEP_BYTES``), else by the file.

    Returns:
        (columns, sha256, size in bytes, rows).
    """
    keeper = _Keeper(batches, KEEP_BYTES if keep_bytes is None else keep_bytes)
    path, sha, size, rows = write_parquet_batches(schema, keeper, relative)
    try:
        table = None if keeper.kept is None else pa.Table.from_batches(keeper.kept, schema=schema)
        return ParquetColumns(path, table=table), sha, size, rows
    except BaseException:
        path.unlink(missing_ok=True)
        raise


def _write_row_groups(path: str, schema: pa.Schema, batches: Iterable[pa.RecordBatch]) -> int:
    rows = 0
    with pq.ParquetWriter(path, schema, **_writer_options(schema)) as writer:
        pending: list[pa.RecordBatch] = []
        pending_rows = 0
        for batch in batches:
            pending.append(batch)
            pending_rows += batch.num_rows
            if pending_rows >= ROW_GROUP_ROWS:
                table = pa.Table.from_batches(pending, schema=schema)
                full = pending_rows - pending_rows % ROW_GROUP_ROWS
                writer.write_table(table.slice(0, full), row_group_size=ROW_GROUP_ROWS)
                rest = table.slice(full)
                pending, pending_rows = rest.to_batches(), rest.num_rows
                rows += full
        if pending_rows or not rows:
            writer.write_table(pa.Table.from_batches(pending, schema=schema), row_group_size=ROW_GROUP_ROWS)
            rows += pending_rows
    return rows


class ParquetColumns:
    """A stored Parquet file that reads like a frame one column at a time: ``len()``, ``.columns``,
    ``[name]`` (a Series, as ``pd.read_parquet`` gives it). The whole table is never in memory,
    unless ``table`` (the rows that were written, held already) is given: columns are then taken
    from it, cast to the types the stored file reads back as, instead of decoded from the file."""

    def __init__(self, path: Path, table: pa.Table | None = None):
        self.path = Path(path)
        self._file = pq.ParquetFile(self.path)
        self.arrow_schema = self._file.schema_arrow
        self.columns = pd.Index(self.arrow_schema.names)
        self.rows = self._file.metadata.num_rows
        if table is not None and (table.num_rows != self.rows or table.schema.names != self.arrow_schema.names):
            raise ValueError("the table held is not the one stored")
        self._table = table

    @property
    def in_memory(self) -> bool:
        return self._table is not None

    def __len__(self) -> int:
        return self.rows

    def __getitem__(self, name: str) -> pd.Series:
        if self._table is not None:
            field = self.arrow_schema.field(name)
            column = self._table.column(name)
            if column.type != field.type:
                column = column.cast(field.type)
            return pa.table({name: column}, schema=pa.schema([field])).to_pandas()[name]
        # A reader per call: the quality pass reads columns from two threads at once.
        return pq.ParquetFile(self.path).read(columns=[name]).to_pandas()[name]

    def is_integer(self, name: str) -> bool:
        return pa.types.is_integer(self.arrow_schema.field(name).type)


def read_parquet(relative: str) -> pd.DataFrame:
    return pd.read_parquet(Path(settings.DATASET_STORAGE_PATH) / relative)


def read_parquet_head(relative: str, rows: int) -> pd.DataFrame:
    """The first ``rows`` rows, reading batch by batch (never the whole file)."""
    reader = pq.ParquetFile(Path(settings.DATASET_STORAGE_PATH) / relative)
    batch = next(reader.iter_batches(batch_size=rows), None)
    return batch.to_pandas() if batch is not None else pd.DataFrame(columns=reader.schema_arrow.names)


def frame_to_csv_bytes(df: pd.DataFrame) -> bytes:
    buf = io.StringIO()
    df.to_csv(buf, index=False)
    return buf.getvalue().encode()
