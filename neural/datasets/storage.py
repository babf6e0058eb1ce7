"""Reading uploads and writing the canonical Parquet form, with nothing left behind on failure."""

from __future__ import annotations

import csv
import io
import os
import tempfile
from pathlib import Path

import pandas as pd
import pyarrow as pa
import pyarrow.parquet as pq
from django.conf import settings

from neural.engine.artifacts import sha256_file
from neural.errors import DataError

SNIFF_BYTES = 64 * 1024


def read_csv(path: Path) -> pd.DataFrame:
    """Read a CSV upload: delimiter sniffed, UTF-8 then Latin-1.

    Raises:
        DataError: empty, binary, unparseable or ragged files, naming the line when known.
    """
    head = path.open("rb").read(SNIFF_BYTES)
    if not head.strip():
        raise DataError("file is empty", field="file")
    if b"\x00" in head:
        raise DataError("file is not a CSV text file (it contains binary data)", field="file")
    encoding = "utf-8"
    try:
        text = head.decode("utf-8")
    except UnicodeDecodeError:
        encoding, text = "latin-1", head.decode("latin-1")
    try:
        delimiter = csv.Sniffer().sniff(text.split("\n", 20)[0] + "\n", delimiters=",;\t|").delimiter
    except csv.Error:
        delimiter = ","
    try:
        df = pd.read_csv(path, sep=delimiter, encoding=encoding, engine="c")
    except pd.errors.EmptyDataError as exc:
        raise DataError("file has no columns", field="file") from exc
    except pd.errors.ParserError as exc:
        raise DataError(f"file is not a well-formed CSV: {str(exc).strip()}", field="file") from exc
    except UnicodeDecodeError as exc:
        raise DataError(f"file is not valid {encoding} text at byte {exc.start}", field="file") from exc
    if df.empty or len(df.columns) < 2:
        raise DataError("file must have a header and at least one data row with two or more columns", field="file")
    df.columns = [str(c).strip() for c in df.columns]
    return df


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


def frame_to_csv_bytes(df: pd.DataFrame) -> bytes:
    buf = io.StringIO()
    df.to_csv(buf, index=False)
    return buf.getvalue().encode()
