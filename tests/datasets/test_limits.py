"""Decompression bombs and deep JSON: caps from settings, refused before the data is decoded."""

from __future__ import annotations

import io
import sqlite3

import numpy as np
import pyarrow as pa
import pyarrow.parquet as pq
import pytest
from django.conf import settings

from neural.datasets.models import Dataset
from neural.datasets.services import dataset_import
from neural.errors import DataError


def leftovers() -> list:
    root = settings.DATASET_STORAGE_PATH
    return [p for p in root.rglob("*") if p.is_file()] if root.exists() else []


def refused(path, words: str, **kw) -> None:
    with pytest.raises(DataError) as err:
        dataset_import(name="bomb", path=path, target="y", **kw)
    assert err.value.field == "file" and words in err.value.message, err.value.message
    assert not Dataset.objects.exists() and leftovers() == []


@pytest.fixture
def zeros_parquet(tmp_path):
    """2 M rows of zeros: a few KB on disk, 32 MB decoded."""
    path = tmp_path / "zeros.parquet"
    zeros = pa.array(np.zeros(2_000_000, dtype="int64"))
    pq.write_table(pa.table({"x": zeros, "y": zeros}), path, compression="zstd")
    assert path.stat().st_size < 200_000
    return path


def test_it_refuses_a_parquet_bomb_from_its_metadata_without_reading_it(db, settings, zeros_parquet, monkeypatch):
    def never(*_a, **_k):
        raise AssertionError("the rows were read")

    monkeypatch.setattr("neural.datasets.importers.tabular.pq.read_table", never)
    settings.DATA_MAX_ROWS = 1_000_000
    refused(zeros_parquet, "2,000,000 rows, over the 1,000,000 row limit (DATA_MAX_ROWS)")
    settings.DATA_MAX_ROWS, settings.DATA_MAX_DECODED_MB = 10_000_000, 1
    refused(zeros_parquet, "(DATA_MAX_DECODED_MB)")


def test_it_stops_a_csv_at_the_cell_limit_while_streaming(db, settings, tmp_path):
    settings.DATA_MAX_CELLS = 3_000
    path = tmp_path / "big.csv"
    path.write_text("a,b,y\n" + "1,2,0\n" * 2_000)
    refused(path, "(DATA_MAX_CELLS)")


def test_it_refuses_a_fann_header_promising_a_huge_table(db, settings, tmp_path):
    path = tmp_path / "bomb.fann"
    path.write_text("1000000000 1000 1\n0 1\n1\n")
    with pytest.raises(DataError) as err:
        dataset_import(name="bomb", path=path, target="y0", fmt="fann")
    assert "(DATA_MAX_ROWS)" in err.value.message and err.value.field == "file"


def test_it_counts_sqlite_rows_before_reading_them(db, settings, tmp_path):
    path = tmp_path / "swarm.db"
    conn = sqlite3.connect(path)
    conn.execute("CREATE TABLE tasks (id TEXT, status TEXT, error TEXT)")
    conn.executemany("INSERT INTO tasks VALUES (?, 'completed', NULL)", [(str(i),) for i in range(50)])
    for table in ("task_results (task_id TEXT, agent_id TEXT)", "agents (id TEXT)", "metrics (agent_id TEXT)"):
        conn.execute(f"CREATE TABLE {table}")
    conn.commit()
    conn.close()
    settings.DATA_MAX_ROWS = 10
    with pytest.raises(DataError) as err:
        dataset_import(name="bomb", path=path, fmt="ruv-swarm")
    assert "ruv-swarm table tasks holds 50 rows" in err.value.message


@pytest.mark.parametrize(
    ("name", "content"),
    [
        ("deep.json", b'[{"y": 1, "a": ' + b"[" * 100_000 + b"]" * 100_000 + b"}]"),
        ("deep40.json", b'[{"y": 1, "a": ' + b'{"b": ' * 40 + b"1" + b"}" * 40 + b"}]"),
        ("deep.jsonl", b'{"y": 1, "a": 1}\n{"y": 0, "a": ' + b"[" * 5_000 + b"]" * 5_000 + b"}\n"),
    ],
)
def test_it_refuses_deeply_nested_json_uploads_with_a_400(api, name, content):
    upload = io.BytesIO(content)
    upload.name = name
    res = api.post("/api/v1/neural/datasets", {"name": "deep", "target": "y", "file": upload}, format="multipart")
    assert res.status_code == 400, res.content
    assert "JSON_MAX_DEPTH" in res.json()["fields"]["file"]
