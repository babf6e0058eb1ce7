"""Generic tabular formats: CSV, JSON array, JSON Lines, Parquet."""

from __future__ import annotations

import csv
import json
import re
from collections.abc import Callable, Iterator
from pathlib import Path
from typing import TypeVar

import pandas as pd
import pyarrow as pa
import pyarrow.csv as pacsv
import pyarrow.parquet as pq

from neural.datasets.importers.base import (
    PARQUET_MAGIC,
    SQLITE_MAGIC,
    Importer,
    Probe,
    parse_json,
    records_frame,
    register,
)
from neural.errors import DataError

T = TypeVar("T")


def sniff_delimiter(text: str) -> str:
    first = text.split("\n", 1)[0] + "\n"
    try:
        return csv.Sniffer().sniff(first, delimiters=",;\t|").delimiter
    except csv.Error:
        return ","


# The file is parsed in ranges of about RANGE_BYTES cut at line ends (values hold no newlines:
# newlines_in_values=False), each by Arrow's whole-buffer reader, which parses a range's
# BLOCK_BYTES blocks on every core: 2.5x faster than its streaming reader on this 2-core machine
# (benchmarks/ingest.py), with memory still one range. The first range fixes the column types
# (a later misfit re-reads that column alone).
RANGE_BYTES = 8 << 20
BLOCK_BYTES = 1 << 20
_CONVERSION_ERROR = re.compile(r"In CSV column #(\d+): .*CSV conversion error")

Sink = Callable[[pa.Schema, Iterator[pa.RecordBatch]], T]


def _options(
    delimiter: str,
    encoding: str,
    column_types: dict,
    *,
    column_names: list[str] | None = None,
    **convert,
) -> dict:
    return {
        "read_options": pacsv.ReadOptions(
            encoding=encoding, use_threads=True, block_size=BLOCK_BYTES, column_names=column_names
        ),
        "parse_options": pacsv.ParseOptions(delimiter=delimiter, newlines_in_values=False),
        "convert_options": pacsv.ConvertOptions(strings_can_be_null=True, column_types=column_types, **convert),
    }


def _canonical_schema(schema: pa.Schema) -> pa.Schema:
    """Names stripped; dates and times as the pandas round trip stores them (so a streamed file
    reads back exactly as the frame the whole-file reader made)."""
    fields = []
    for f in schema:
        kind = f.type
        if pa.types.is_date(kind):
            kind = pa.timestamp("ms")
        elif pa.types.is_time(kind):
            kind = pa.time64("us")
        fields.append(pa.field(str(f.name).strip(), kind))
    return pa.schema(fields)


def _canonical(batch: pa.RecordBatch, schema: pa.Schema) -> pa.RecordBatch:
    columns = [c if c.type == f.type else c.cast(f.type) for c, f in zip(batch.columns, schema, strict=True)]
    return pa.RecordBatch.from_arrays(columns, schema=schema)


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
        """The whole file as one frame (for callers that want it all; imports use ``stream``)."""

        def collect(schema: pa.Schema, batches: Iterator[pa.RecordBatch]) -> pa.Table:
            return pa.Table.from_batches(list(batches), schema=schema)

        table = self.stream(path, collect)
        if table.num_rows == 0:
            raise DataError("file must have a header and at least one data row with two or more columns", field="file")
        return table.to_pandas(date_as_object=False)

    def stream(self, path: Path, sink: Sink[T]) -> T:
        """Feed ``sink(schema, batches)`` the file range by range; return what ``sink`` returns.

        The first range fixes each column's type. When a later range does not fit (an integer
        column with a decimal further down, a column empty at first), that one column is read on
        its own to learn the type the whole-file reader would give it, and the stream starts
        again: ``sink`` must leave nothing behind when its batches raise.
        """
        delimiter, encoding = _sniff_text(path)
        column_types: dict[str, pa.DataType] = {}
        raw_names: list[str] = []
        while True:
            try:
                ranges = _line_ranges(path)
                first = pacsv.read_csv(pa.py_buffer(next(ranges)), **_options(delimiter, encoding, column_types))
                raw_names = first.schema.names
                schema = _canonical_schema(first.schema)
                if schema.names and len(schema) < 2:
                    raise DataError(
                        "file must have a header and at least one data row with two or more columns", field="file"
                    )
                fixed = dict(zip(raw_names, first.schema.types, strict=True))

                options = _options(delimiter, encoding, fixed, column_names=raw_names)

                def batches(first=first, ranges=ranges, options=options) -> Iterator[pa.RecordBatch]:
                    yield from first.to_batches()
                    for block in ranges:
                        yield from pacsv.read_csv(pa.py_buffer(block), **options).to_batches()

                return sink(schema, (_canonical(b, schema) for b in batches()))
            except pa.ArrowInvalid as exc:
                message = str(exc)
                bad = _CONVERSION_ERROR.search(message)
                if "UTF8" in message and encoding == "utf-8":
                    encoding = "latin-1"  # the bad byte was past the sample
                elif bad and int(bad.group(1)) < len(raw_names) and raw_names[int(bad.group(1))] not in column_types:
                    name = raw_names[int(bad.group(1))]
                    column_types[name] = _whole_column_type(path, delimiter, encoding, column_types, name)
                else:
                    raise _csv_error(message, path, delimiter, encoding) from exc


def _line_ranges(path: Path) -> Iterator[bytes]:
    """The header line with the first range, then the following ranges: each about RANGE_BYTES,
    ending at a line end; blank ranges are skipped."""
    with path.open("rb") as fh:
        header = fh.readline()
        yield header + fh.read(RANGE_BYTES) + fh.readline()
        while block := fh.read(RANGE_BYTES):
            block += fh.readline()
            if block.strip():
                yield block


def _sniff_text(path: Path) -> tuple[str, str]:
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
    return sniff_delimiter(text), encoding


def _whole_column_type(path: Path, delimiter: str, encoding: str, known: dict, name: str) -> pa.DataType:
    """The type of one column judged on every block (memory: that one column)."""
    options = _options(delimiter, encoding, known, include_columns=[name])
    return pacsv.read_csv(path, **options).schema.field(0).type


def _csv_error(message: str, path: Path, delimiter: str, encoding: str) -> DataError:
    if "Expected" in message and "columns" in message:
        return DataError(f"file is not a well-formed CSV: {_ragged_row(path, delimiter, encoding)}", field="file")
    if "Empty CSV" in message:
        return DataError("file has no columns", field="file")
    return DataError(f"file is not a well-formed CSV: {message.removeprefix('CSV parse error: ')}", field="file")


def _ragged_row(path: Path, delimiter: str, encoding: str) -> str:
    """Re-read single-threaded, where the reader knows row numbers, to name the bad line
    (block by block: memory stays one block)."""
    found: list = []

    def handler(row) -> str:
        found.append(row)
        return "error"

    try:
        reader = pacsv.open_csv(
            path,
            read_options=pacsv.ReadOptions(encoding=encoding, use_threads=False, block_size=BLOCK_BYTES),
            parse_options=pacsv.ParseOptions(delimiter=delimiter, invalid_row_handler=handler),
            convert_options=pacsv.ConvertOptions(column_types={}, include_columns=[]),
        )
        for _ in reader:
            pass
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
        return records_frame(self.json(path), what="JSON")


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
            return all(isinstance(parse_json(ln), dict) for ln in lines[:-1])
        except ValueError:
            return False

    def read(self, path: Path) -> pd.DataFrame:
        records = []
        with path.open("r", encoding="utf-8-sig") as fh:
            for number, line in enumerate(fh, start=1):
                if not line.strip():
                    continue
                try:
                    record = parse_json(line)
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
