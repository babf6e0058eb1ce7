"""Generic tabular formats: CSV, JSON array, JSON Lines, Parquet."""

from __future__ import annotations

import csv
import json
import os
from pathlib import Path

import pandas as pd
import pyarrow as pa
import pyarrow.csv as pacsv
import pyarrow.parquet as pq

from neural.datasets.importers.base import (
    PARQUET_MAGIC,
    SQLITE_MAGIC,
    Importer,
    Probe,
    load_json,
    records_frame,
    register,
)
from neural.errors import DataError


def sniff_delimiter(text: str) -> str:
    first = text.split("\n", 1)[0] + "\n"
    try:
        return csv.Sniffer().sniff(first, delimiters=",;\t|").delimiter
    except csv.Error:
        return ","


# Arrow's threaded reader wins with free cores and loses to one thread on a busy 2-core box.
THREADED_READ = (os.cpu_count() or 1) >= 4


def _csv_table(path: Path, delimiter: str, encoding: str, *, threads: bool = THREADED_READ) -> pa.Table:
    return pacsv.read_csv(
        path,
        read_options=pacsv.ReadOptions(encoding=encoding, use_threads=threads, block_size=8 << 20),
        parse_options=pacsv.ParseOptions(delimiter=delimiter, newlines_in_values=False),
        convert_options=pacsv.ConvertOptions(strings_can_be_null=True),
    )


@register
class CsvImporter(Importer):
    name = "csv"
    description = "CSV text: delimiter (, ; tab |) and encoding (UTF-8, else Latin-1) detected"
    priority = -10  # the fallback for any text

    def sniff(self, probe: Probe) -> bool:
        if probe.head.startswith(SQLITE_MAGIC):
            return False  # an SQLite file no importer knows gets its own message
        return probe.suffix in (".csv", ".tsv", ".txt", "") or b"," in probe.head or b";" in probe.head

    def read(self, path: Path) -> pd.DataFrame:
        with path.open("rb") as fh:
            head = fh.read(64 * 1024)
        if not head.strip():
            raise DataError("file is empty", field="file")
        if head[:2] in (b"\xff\xfe", b"\xfe\xff"):
            raise DataError("file is UTF-16 text; save it as UTF-8 (or Latin-1) and import it again", field="file")
        if b"\x00" in head:
            raise DataError("file is not a CSV text file (it contains binary data)", field="file")
        try:
            text, encoding = head.decode("utf-8"), "utf-8"
        except UnicodeDecodeError as exc:
            # A multi-byte character cut at the end of the sample is still UTF-8.
            if exc.start < len(head) - 4:
                text, encoding = head.decode("latin-1"), "latin-1"
            else:
                text, encoding = head[: exc.start].decode("utf-8"), "utf-8"
        delimiter = sniff_delimiter(text)
        try:
            table = _csv_table(path, delimiter, encoding)
        except pa.ArrowInvalid as exc:
            message = str(exc)
            if "UTF8" in message and encoding == "utf-8":
                table = _csv_table(path, delimiter, "latin-1")  # the bad byte was past the sample
            elif "Expected" in message and "columns" in message:
                raise DataError(
                    f"file is not a well-formed CSV: {_ragged_row(path, delimiter, encoding)}", field="file"
                ) from exc
            elif "Empty CSV" in message:
                raise DataError("file has no columns", field="file") from exc
            else:
                raise DataError(
                    f"file is not a well-formed CSV: {message.removeprefix('CSV parse error: ')}", field="file"
                ) from exc
        if table.num_rows == 0 or table.num_columns < 2:
            raise DataError("file must have a header and at least one data row with two or more columns", field="file")
        df = table.to_pandas(date_as_object=False)
        df.columns = [str(c).strip() for c in df.columns]
        return df


def _ragged_row(path: Path, delimiter: str, encoding: str) -> str:
    """Re-read single-threaded, where the reader knows row numbers, to name the bad line."""
    found: list = []

    def handler(row) -> str:
        found.append(row)
        return "error"

    try:
        pacsv.read_csv(
            path,
            read_options=pacsv.ReadOptions(encoding=encoding, use_threads=False),
            parse_options=pacsv.ParseOptions(delimiter=delimiter, invalid_row_handler=handler),
        )
    except pa.ArrowInvalid:
        pass  # the handler has recorded the row that stopped the reader
    if not found:
        return "rows have differing numbers of fields"
    row = found[0]
    return f"line {row.number} has {row.actual_columns} fields, expected {row.expected_columns}"


@register
class JsonImporter(Importer):
    name = "json"
    description = "a JSON array of objects (nested objects become a.b columns)"

    def sniff(self, probe: Probe) -> bool:
        return isinstance(probe.json_doc, list) and bool(probe.json_doc) and isinstance(probe.json_doc[0], dict)

    def read(self, path: Path) -> pd.DataFrame:
        return records_frame(load_json(path), what="JSON")


@register
class JsonLinesImporter(Importer):
    name = "jsonl"
    description = "JSON Lines: one object per line"

    def sniff(self, probe: Probe) -> bool:
        if probe.json_doc is not None:
            return False
        lines = [ln for ln in probe.head.split(b"\n")[:5] if ln.strip()]
        if len(lines) < 2 or probe.head.lstrip()[:1] != b"{":
            return False
        try:
            return all(isinstance(json.loads(ln), dict) for ln in lines[:-1])
        except ValueError:
            return False

    def read(self, path: Path) -> pd.DataFrame:
        records = []
        with path.open("r", encoding="utf-8-sig") as fh:
            for number, line in enumerate(fh, start=1):
                if not line.strip():
                    continue
                try:
                    record = json.loads(line)
                except json.JSONDecodeError as exc:
                    raise DataError(f"JSON Lines: line {number} is not valid JSON ({exc.msg})", field="file") from exc
                if not isinstance(record, dict):
                    raise DataError(f"JSON Lines: line {number} is not a JSON object", field="file")
                records.append(record)
        return records_frame(records, what="JSON Lines")


@register
class ParquetImporter(Importer):
    name = "parquet"
    description = "Apache Parquet"
    priority = 10

    def sniff(self, probe: Probe) -> bool:
        return probe.head[:4] == PARQUET_MAGIC

    def read(self, path: Path) -> pd.DataFrame:
        try:
            return pq.read_table(path).to_pandas()
        except (pa.ArrowInvalid, OSError) as exc:
            raise DataError(f"file is not a readable Parquet file ({exc})", field="file") from exc
