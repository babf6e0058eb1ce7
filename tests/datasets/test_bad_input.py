"""Bad files: one clear message naming the problem, HTTP 400 / exit 2, and nothing left behind."""

from __future__ import annotations

import io
import sqlite3

import pytest
from django.conf import settings
from django.core.management import call_command
from django.core.management.base import CommandError

from neural.datasets.models import Dataset

GOOD = "load,queue,ok\n" + "".join(f"{i % 7},{'ab'[i % 2]},{i % 3 == 0}\n" for i in range(30))


def leftovers() -> list:
    root = settings.DATASET_STORAGE_PATH
    return [p for p in root.rglob("*") if p.is_file()] if root.exists() else []


def sqlite_without_tables(path):
    conn = sqlite3.connect(path)
    conn.execute("CREATE TABLE notes (id INTEGER, body TEXT)")
    conn.commit()
    conn.close()
    return path.read_bytes()


CASES = {
    "empty": (b"", {}, "file", "empty"),
    "binary": (bytes(range(256)) * 40, {}, "file", "binary"),
    "utf16": (GOOD.encode("utf-16"), {}, "file", "UTF-16"),
    "bad-utf8-json": (b'[{"a": "caf\xe9", "ok": 1}]', {}, "file", "UTF-8"),
    "ragged": (b"a,b,ok\n1,2,3\n4,5,6\n7,8,9,10\n", {}, "file", "line 4 has 4 fields, expected 3"),
    "missing-target": (GOOD.encode(), {"target": "nope"}, "target", "not in the file"),
    "one-class": (b"a,b,ok\n" + b"1,2,1\n" * 30, {"target": "ok"}, "target", "distinct"),
    "all-missing-features": (
        b"a,b,ok\n" + b",,1\n,,0\n" * 15,
        {"target": "ok"},
        "file",
        "every value is missing in: a, b",
    ),
    "all-missing-target": (b"a,b,ok\n" + b"1,2,\n3,4,\n" * 15, {"target": "ok"}, "target", "distinct"),
    "bad-fann": (b"3 2 1\n0 1\n1\n1 1\n", {}, "file", "header promises 3 samples"),
    "bad-jsonl": (b'{"a": 1, "ok": 1}\n{"a": 2, "ok": 0}\n{"a": 3,\n', {"format": "jsonl"}, "file", "line 3"),
    "no-target-given": (GOOD.encode(), {"target": ""}, "target", "name the column to predict"),
    "nested-json": (b'[{"a": ' + b"[" * 5000 + b"]" * 5000 + b', "ok": 1}]', {}, "file", "nested deeper than"),
    "duplicate-columns": (b"a,a,ok\n" + b"1,2,1\n3,4,0\n" * 15, {}, "file", "more than one column named 'a'"),
}


@pytest.mark.parametrize("case", sorted(CASES))
def test_it_refuses_bad_files_through_the_api(api, case):
    content, fields, field, message = CASES[case]
    data = {"name": "bad", "target": "ok", **fields, "file": io.BytesIO(content)}
    data["file"].name = "upload.jsonl" if case == "bad-jsonl" else "upload.bin"
    res = api.post("/api/v1/neural/datasets", data, format="multipart")
    assert res.status_code == 400, res.content
    assert message in res.json()["fields"][field], res.json()
    assert Dataset.objects.count() == 0 and leftovers() == []


@pytest.mark.parametrize("case", sorted(CASES))
def test_it_refuses_bad_files_through_the_cli(db, tmp_path, case):
    content, fields, _, message = CASES[case]
    path = tmp_path / ("upload.jsonl" if case == "bad-jsonl" else "upload.dat")
    path.write_bytes(content)
    args = ["data", "import", "--name", "bad", "--file", str(path)]
    for key, value in {"target": "ok", **fields}.items():
        if value:
            args += [f"--{key}", value]
    with pytest.raises(CommandError) as err:
        call_command(*args)
    assert err.value.returncode == 2 and message in str(err.value) and "\n" not in str(err.value)
    assert Dataset.objects.count() == 0 and leftovers() == []


def test_it_names_the_tables_a_sqlite_file_lacks(api, db, tmp_path):
    raw = sqlite_without_tables(tmp_path / "other.db")
    res = api.post("/api/v1/neural/datasets", {"name": "db", "file": io.BytesIO(raw)}, format="multipart")
    assert res.status_code == 400
    assert "none of the expected tables" in res.json()["fields"]["file"] and "notes" in res.json()["fields"]["file"]
    path = tmp_path / "other.db"
    with pytest.raises(CommandError, match=r"missing table.*memory_entries") as err:
        call_command("data", "import", "--name", "db", "--file", str(path), "--format", "claude-flow-memory")
    assert err.value.returncode == 2 and Dataset.objects.count() == 0 and leftovers() == []


def test_it_names_the_columns_a_memory_db_lacks(api, tmp_path):
    conn = sqlite3.connect(tmp_path / "memory.db")
    conn.execute("CREATE TABLE memory_entries (key TEXT, value TEXT, namespace TEXT)")
    conn.commit()
    conn.close()
    data = {"name": "db", "file": io.BytesIO((tmp_path / "memory.db").read_bytes())}
    res = api.post("/api/v1/neural/datasets", data, format="multipart")
    assert res.status_code == 400
    assert "lacks column(s) created_at" in res.json()["fields"]["file"], res.json()
    assert Dataset.objects.count() == 0 and leftovers() == []


def test_it_refuses_a_file_over_the_size_limit(api, settings):
    settings.DATA_UPLOAD_MAX_MB = 1
    data = {"name": "big", "target": "ok", "file": io.BytesIO(GOOD.encode() * 6000)}
    data["file"].name = "big.csv"
    res = api.post("/api/v1/neural/datasets", data, format="multipart")
    assert res.status_code == 400 and "over the 1 MB limit" in res.json()["fields"]["file"]
    assert Dataset.objects.count() == 0 and leftovers() == []


def test_the_cli_refuses_a_file_over_the_size_limit(db, tmp_path, settings):
    settings.DATA_UPLOAD_MAX_MB = 1
    path = tmp_path / "big.csv"
    path.write_text(GOOD * 6000)
    with pytest.raises(CommandError, match="over the 1 MB limit") as err:
        call_command("data", "import", "--name", "big", "--file", str(path), "--target", "ok")
    assert err.value.returncode == 2 and Dataset.objects.count() == 0
