"""Reading uploads and writing the canonical Parquet form, with nothing left behind on failure."""

from __future__ import annotations

import io
import os
import tempfile
from pathlib import Path

import pandas as pd
import pyarrow as pa
import pyarrow.parquet as pq
from django.conf import settings

from neural.engine.artifacts import sha256_file


def write_parquet(df: pd.DataFrame, relative: str) -> tuple[Path, str, int]:
    """Write ``df`` as Parquet atomically under DATASET_STORAGE_PATH.

    Returns:
        (path, sha256, size in bytes).
    """
    target = Path(settings.DATASET_STORAGE_PATH) / relative
    target.parent.mkdir(parents=True, exist_ok=True)
    fd, tmp = tempfile.mkstemp(prefix=".", suffix=".parquet.tmp", dir=target.parent)
    os.close(fd)
    try:
        table = pa.Table.from_pandas(df, preserve_index=False)
        pq.write_table(table, tmp, compression="zstd")
        os.replace(tmp, target)
    except BaseException:
        Path(tmp).unlink(missing_ok=True)
        raise
    return target, sha256_file(target), target.stat().st_size


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
