"""The importer contract and the registry of formats.

An importer is a small class: ``name`` (the ``--format`` value), ``sniff()`` says whether a file
looks like its format (used by auto-detection), ``read()`` returns a DataFrame. Importers never
execute anything from the file: JSON is parsed, SQLite is opened read-only, text is split.
"""

from __future__ import annotations

import json
import sqlite3
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any, ClassVar

import pandas as pd

from neural.errors import DataError

SQLITE_MAGIC = b"SQLite format 3\x00"
PARQUET_MAGIC = b"PAR1"
HEAD_BYTES = 64 * 1024


@dataclass
class Probe:
    """What auto-detection knows about a file, computed once and shared by every importer."""

    path: Path
    head: bytes
    json_doc: Any = None  # the parsed document when the file is one JSON value
    sqlite_tables: set[str] = field(default_factory=set)

    @property
    def suffix(self) -> str:
        return self.path.suffix.lower()


class Importer:
    """One file format. Subclasses set ``name``, ``description``, ``default_target``."""

    name: ClassVar[str] = ""
    description: ClassVar[str] = ""
    default_target: ClassVar[str | None] = None
    # Detection order: specific formats (higher) are asked before generic ones.
    priority: ClassVar[int] = 0
    # (path, document) that detection parsed, for ``json``; handed over once.
    _parsed: tuple[Path, Any] | None = None

    def sniff(self, probe: Probe) -> bool:
        return False

    def read(self, path: Path) -> pd.DataFrame:
        raise NotImplementedError

    def json(self, path: Path) -> Any:
        """The file's JSON document: the one detection parsed (handed over once by ``detect``,
        since ``read`` may change it), else parsed now."""
        handed, self._parsed = self._parsed, None
        if handed is not None and handed[0] == path:
            return handed[1]
        return load_json(path)

    def hand_over(self, probe: Probe) -> None:
        """Keep what detection parsed, for ``json``."""
        self._parsed = (probe.path, probe.json_doc) if probe.json_doc is not None else None


REGISTRY: dict[str, type[Importer]] = {}


def register(cls: type[Importer]) -> type[Importer]:
    if cls.name in REGISTRY:
        raise ValueError(f"format {cls.name!r} registered twice")
    REGISTRY[cls.name] = cls
    return cls


def parse_json(text: str | bytes) -> Any:
    """``json.loads``; lists/objects nested past Python's recursion limit are a DataError, not a crash."""
    try:
        return json.loads(text)
    except RecursionError:
        raise DataError("file holds JSON nested too deeply to read (lists inside lists...)", field="file") from None


def load_json(path: Path) -> Any:
    """Parse a JSON file, naming the line and column of a syntax error."""
    try:
        text = path.read_text(encoding="utf-8-sig")
    except UnicodeDecodeError as exc:
        raise DataError(f"file is not valid UTF-8 JSON at byte {exc.start}", field="file") from exc
    try:
        return parse_json(text)
    except json.JSONDecodeError as exc:
        raise DataError(
            f"file is not valid JSON: {exc.msg} at line {exc.lineno}, column {exc.colno}", field="file"
        ) from exc


def records_frame(records: Any, *, what: str) -> pd.DataFrame:
    """A list of JSON objects as a flat frame (nested objects become ``a.b`` columns)."""
    if not isinstance(records, list) or not records:
        raise DataError(f"{what}: expected a non-empty JSON array of objects", field="file")
    bad = next((i for i, r in enumerate(records) if not isinstance(r, dict)), None)
    if bad is not None:
        raise DataError(f"{what}: item {bad} is not a JSON object", field="file")
    df = pd.json_normalize(records, sep=".")
    return _lists_as_json(df)


def _lists_as_json(df: pd.DataFrame) -> pd.DataFrame:
    """List cells become JSON text (a tag list the schema recognises); empty objects are dropped."""
    for col in df.columns:
        if df[col].map(lambda v: isinstance(v, (list, dict))).any():
            df[col] = df[col].map(lambda v: json.dumps(v) if isinstance(v, (list, dict)) else v)
            if df[col].isin(["{}", "[]"]).all():
                df = df.drop(columns=col)
    return df


def epoch_ms_to_iso(series: pd.Series) -> pd.Series:
    """Milliseconds since the epoch (as JavaScript writes them) to ISO-8601 UTC text."""
    values = pd.to_numeric(series, errors="coerce")
    return pd.to_datetime(values, unit="ms", utc=True).dt.strftime("%Y-%m-%dT%H:%M:%S.%fZ")


def sqlite_tables(path: Path) -> set[str]:
    with sqlite_connect(path) as conn:
        return {r[0] for r in conn.execute("SELECT name FROM sqlite_master WHERE type IN ('table', 'view')")}


def sqlite_connect(path: Path) -> sqlite3.Connection:
    """Open read-only: importing never changes the user's database."""
    try:
        return sqlite3.connect(f"{path.resolve().as_uri()}?mode=ro", uri=True)
    except sqlite3.Error as exc:
        raise DataError(f"file is not a readable SQLite database ({exc})", field="file") from exc


def require_tables(path: Path, needed: set[str], *, what: str) -> set[str]:
    try:
        tables = sqlite_tables(path)
    except sqlite3.DatabaseError as exc:
        raise DataError(f"file is not a readable SQLite database ({exc})", field="file") from exc
    missing = needed - tables
    if missing:
        found = ", ".join(sorted(tables)) or "none"
        raise DataError(
            f"SQLite file is not a {what} database: missing table(s) {', '.join(sorted(missing))} (found: {found})",
            field="file",
        )
    return tables
