"""Importers: one small class per file format behind one registry (``--format``), with auto-detection.

>>> frame, fmt = read_file(path)            # detected
>>> frame, fmt = read_file(path, "fann")    # named
"""

from __future__ import annotations

import sqlite3
from pathlib import Path

import pandas as pd

from neural.datasets.importers import claude_flow, fann, photondrift, ruv_swarm, tabular  # noqa: F401 (register)
from neural.datasets.importers.base import (
    HEAD_BYTES,
    REGISTRY,
    SQLITE_MAGIC,
    Importer,
    Probe,
    parse_json,
    register,
    sqlite_tables,
)
from neural.errors import DataError

__all__ = ["REGISTRY", "Importer", "detect", "get_importer", "open_importer", "read_file", "register"]

# JSON files larger than this are not parsed during detection (JSON Lines / CSV are sniffed by their head).
MAX_JSON_PROBE_BYTES = 256 * 1024 * 1024


def get_importer(name: str) -> Importer:
    if name not in REGISTRY:
        raise DataError(f"unknown format {name!r}; expected one of {', '.join(sorted(REGISTRY))}", field="format")
    return REGISTRY[name]()


def probe(path: Path) -> Probe:
    with path.open("rb") as fh:
        head = fh.read(HEAD_BYTES)
    if not head.strip():
        raise DataError("file is empty", field="file")
    found = Probe(path=path, head=head)
    if head.startswith(SQLITE_MAGIC):
        try:
            found.sqlite_tables = sqlite_tables(path)
        except sqlite3.DatabaseError as exc:
            raise DataError(f"file is not a readable SQLite database ({exc})", field="file") from exc
    elif head.lstrip(b"\xef\xbb\xbf \t\r\n")[:1] in (b"[", b"{") and path.stat().st_size <= MAX_JSON_PROBE_BYTES:
        raw = path.read_bytes()
        try:
            text = raw.decode("utf-8-sig")
        except UnicodeDecodeError as exc:
            if b"\x00" in head:
                return found  # binary: the reader says so
            raise DataError(f"file looks like JSON but is not valid UTF-8 at byte {exc.start}", field="file") from exc
        try:
            found.json_doc = parse_json(text)
        except ValueError:
            found.json_doc = None  # not one JSON document: maybe JSON Lines
    return found


def detect(path: Path) -> Importer:
    """The most specific importer whose ``sniff`` accepts the file.

    Raises:
        DataError: empty or binary files no importer accepts; SQLite files without known tables.
    """
    found = probe(path)
    for cls in sorted(REGISTRY.values(), key=lambda c: -c.priority):
        importer = cls()
        if importer.sniff(found):
            importer.hand_over(found)
            return importer
    if found.head.startswith(SQLITE_MAGIC):
        tables = ", ".join(sorted(found.sqlite_tables)) or "none"
        raise DataError(
            "SQLite file has none of the expected tables (claude-flow: memory_entries; "
            f"ruv-swarm: tasks, task_results, agents, metrics); found: {tables}",
            field="file",
        )
    raise DataError("could not detect the file format; name it with --format / format", field="file")


def read_file(path: Path, fmt: str | None = None) -> tuple[pd.DataFrame, Importer]:
    """Read ``path`` with the named format, or the detected one."""
    importer = open_importer(path, fmt)
    df = importer.read(path)
    if df.empty or len(df.columns) < 2:
        raise DataError("file must hold at least one row with two or more columns", field="file")
    df.columns = [str(c) for c in df.columns]
    return df, importer


def open_importer(path: Path, fmt: str | None = None) -> Importer:
    """The named or detected importer, once the file's first bytes look like its format."""
    importer = get_importer(fmt) if fmt else detect(path)
    with path.open("rb") as fh:
        head = fh.read(HEAD_BYTES)
    if not head.strip():
        raise DataError("file is empty", field="file")
    if head[:2] in (b"\xff\xfe", b"\xfe\xff"):
        raise DataError("file is UTF-16 text; save it as UTF-8 (or Latin-1) and import it again", field="file")
    if importer.name not in ("parquet", "claude-flow-memory", "ruv-swarm") and b"\x00" in head:
        raise DataError(f"file is not {importer.name} text (it contains binary data)", field="file")
    return importer
