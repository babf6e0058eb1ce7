"""Chunked CSV import: streamed block by block into Parquet, judged a column at a time, and the
result is the frame, schema and quality report the whole-file path gives."""

from __future__ import annotations

import numpy as np
import pandas as pd
import pyarrow as pa
import pyarrow.csv as pacsv
import pyarrow.parquet as pq
import pytest
from django.conf import settings

from neural.datasets import storage
from neural.datasets.importers import tabular
from neural.datasets.models import Dataset
from neural.datasets.quality import quality_report, sample_positions
from neural.datasets.services import build_schema, dataset_import
from neural.errors import DataError
from tests.datasets.test_quality import planted


@pytest.fixture
def small_blocks(monkeypatch):
    """Ranges of 8 KiB in blocks of 4 KiB, row groups of 100 rows: a few hundred rows cross many
    of each."""
    monkeypatch.setattr(tabular, "RANGE_BYTES", 8192)
    monkeypatch.setattr(tabular, "BLOCK_BYTES", 4096)
    monkeypatch.setattr(storage, "ROW_GROUP_ROWS", 100)


def whole_file_frame(path) -> pd.DataFrame:
    """What the reader did before streaming: one Arrow table for the file, then pandas."""
    table = pacsv.read_csv(path, convert_options=pacsv.ConvertOptions(strings_can_be_null=True))
    df = table.to_pandas(date_as_object=False)
    df.columns = [str(c).strip() for c in df.columns]
    return df


def old_stored_frame(path, tmp_path) -> pd.DataFrame:
    """The whole-file frame written as the frame path writes it, and read back."""
    out = tmp_path / "old.parquet"
    pq.write_table(pa.Table.from_pandas(whole_file_frame(path), preserve_index=False), out, compression="zstd")
    return pd.read_parquet(out)


def mixed_csv(path, n: int = 600) -> None:
    """Columns whose type the first block gets wrong: an integer column with a decimal and a gap
    near the end, a column empty until late, dates, times, UTC timestamps, text with duplicates."""
    rng = np.random.default_rng(3)
    df = pd.DataFrame(
        {
            " load ": rng.integers(0, 100, n).astype(object),
            "late": [""] * (n - 50) + [f"{i}.5" for i in range(50)],
            "day": pd.date_range("2026-01-01", periods=n, freq="h").strftime("%Y-%m-%d"),
            "clock": pd.date_range("2026-01-01", periods=n, freq="min").strftime("%H:%M:%S"),
            "ts": pd.date_range("2026-01-01", periods=n, freq="17min").strftime("%Y-%m-%dT%H:%M:%SZ"),
            "queue": rng.choice(["a", "b", "c"], n),
            "ok": rng.random(n) < 0.4,
        }
    )
    df.loc[n - 3, " load "] = "2.5"
    df.loc[n - 2, " load "] = ""
    df = pd.concat([df, df.iloc[10:30]], ignore_index=True)  # twenty duplicate rows
    df.to_csv(path, index=False)


def test_it_streams_a_csv_into_the_frame_the_whole_file_reader_made(db, tmp_path, small_blocks):
    path = tmp_path / "mixed.csv"
    mixed_csv(path)
    ds = dataset_import(name="mixed", path=path, target="ok")
    stored = storage.read_parquet(ds.file)
    expected = old_stored_frame(path, tmp_path)
    pd.testing.assert_frame_equal(stored, expected)
    assert stored["load"].dtype == np.float64 and stored["late"].notna().sum() == 50
    assert ds.rows == len(expected) == 620
    columns = storage.ParquetColumns(storage.stored_path(ds.file))
    for name in expected.columns:
        pd.testing.assert_series_equal(columns[name], stored[name])
    assert pq_row_groups(ds) == 7  # 620 rows in groups of 100, whatever the block size


def test_it_gives_the_schema_and_report_of_the_in_memory_path(db, tmp_path, small_blocks):
    path = tmp_path / "mixed.csv"
    mixed_csv(path)
    ds = dataset_import(name="mixed", path=path, target="ok")
    expected = whole_file_frame(path)
    schema = build_schema(expected, "ok")
    assert ds.schema == schema
    assert ds.quality == quality_report(expected, target="ok", schema=schema)
    assert ds.quality["duplicates"]["count"] == int(expected.duplicated().sum()) == 20


def test_it_stores_the_same_bytes_whatever_the_block_size(db, tmp_path, monkeypatch):
    path = tmp_path / "mixed.csv"
    mixed_csv(path)
    first = dataset_import(name="mixed", path=path, target="ok")
    monkeypatch.setattr(tabular, "RANGE_BYTES", 8192)
    monkeypatch.setattr(tabular, "BLOCK_BYTES", 4096)
    second = dataset_import(name="mixed", path=path, target="ok")
    assert second.version == 2 and second.sha256 == first.sha256 and second.size_bytes == first.size_bytes


def test_the_planted_problems_report_is_unchanged_through_a_csv_import(db, tmp_path, small_blocks):
    df = planted()
    path = tmp_path / "planted.csv"
    df.to_csv(path, index=False)
    ds = dataset_import(name="planted", path=path, target="ok")
    assert ds.quality == quality_report(df, target="ok", schema=ds.schema)
    assert ds.quality["duplicates"]["count"] == 12 and ds.quality["outliers"]["load"]["count"] == 5
    pii = {(p["column"], p["kind"]): p["count"] for p in ds.quality["pii"]}
    assert pii == {
        ("notes", "email"): 7,
        ("notes", "ip_address"): 3,
        ("notes", "phone"): 3,
        ("notes", "api_key"): 1,
        ("notes", "credit_card"): 2,
        ("notes", "secret_token"): 1,
    }


def test_it_names_a_ragged_line_past_the_first_block_and_leaves_nothing(db, tmp_path, small_blocks):
    lines = ["a,b,ok"] + [f"{i},{i % 5},{i % 2}" for i in range(500)]
    lines[400] = "1,2,3,4"
    path = tmp_path / "ragged.csv"
    path.write_text("\n".join(lines) + "\n")
    with pytest.raises(DataError, match="line 401 has 4 fields, expected 3"):
        dataset_import(name="ragged", path=path, target="ok")
    root = settings.DATASET_STORAGE_PATH
    assert Dataset.objects.count() == 0 and not [p for p in root.rglob("*") if p.is_file()]


def test_it_reads_latin1_when_the_bad_byte_is_past_the_sample(db, tmp_path, small_blocks):
    body = "".join(f"{i},Zurich,{i % 2}\n" for i in range(5000)) + "5000,Malmö,1\n"
    path = tmp_path / "late.csv"
    path.write_bytes(("load,city,ok\n" + body).encode("latin-1"))
    ds = dataset_import(name="late", path=path, target="ok")
    assert storage.read_parquet(ds.file)["city"].iloc[-1] == "Malmö"


def test_a_failed_profile_removes_the_streamed_file(db, tmp_path):
    path = tmp_path / "one.csv"
    path.write_text("a,b,ok\n" + "1,2,1\n" * 30)
    with pytest.raises(DataError, match="distinct"):
        dataset_import(name="one", path=path, target="ok")
    root = settings.DATASET_STORAGE_PATH
    assert not [p for p in root.rglob("*") if p.is_file()]


def test_sample_positions_are_the_rows_dataframe_sample_takes():
    df = pd.DataFrame({"x": np.arange(1000)})
    assert (sample_positions(1000, 100) == df.sample(100, random_state=0).index.to_numpy()).all()
    assert sample_positions(100, 100) is None


def pq_row_groups(ds) -> int:
    return pq.ParquetFile(storage.stored_path(ds.file)).metadata.num_row_groups


def test_it_infers_datetime_columns_on_one_row_as_the_engine_does_on_all():
    from neural.datasets.services import _infer_schema
    from neural.engine.schema import infer_schema

    n = 300
    stamps = pd.Series(pd.date_range("2026-01-01", periods=n, freq="h"))
    df = pd.DataFrame(
        {
            "when": stamps,
            "never": pd.Series([pd.NaT] * n, dtype="datetime64[ms]"),
            "late": stamps.where(np.arange(n) > 250),
            "zoned": stamps.dt.tz_localize("UTC"),
            "x": np.arange(n) % 7,
            "word": ["true", "false"] * (n // 2),
            "id": [f"u{i}" for i in range(n)],
            "y": ["a", "b", "c"] * (n // 3),
        }
    )
    assert _infer_schema(df, "y") == infer_schema(df, "y")
    assert _infer_schema(df, "when") == infer_schema(df, "when")
    kinds = {spec.name: (str(spec.kind), spec.excluded) for spec in _infer_schema(df, "y")}
    assert kinds["never"] == ("datetime", True) and kinds["late"] == ("datetime", False)
