from __future__ import annotations

import io

import pytest
from django.conf import settings

from neural.datasets.models import Dataset

CSV = "cpu,agent,ok\n" + "".join(f"{i % 7},{'a' if i % 3 else 'b'},{int(i % 7 > 3)}\n" for i in range(60))


def upload(api, *, content: bytes | str = CSV, **fields):
    data = {"name": "ops", "target": "ok", "pattern": "prediction", **fields}
    raw = content.encode() if isinstance(content, str) else content
    data["file"] = io.BytesIO(raw)
    data["file"].name = "ops.csv"
    return api.post("/api/v1/neural/datasets", data, format="multipart")


def stored_files() -> list:
    root = settings.DATASET_STORAGE_PATH
    return [p for p in root.rglob("*") if p.is_file()] if root.exists() else []


def test_it_imports_a_csv_and_infers_schema_and_task(api):
    res = upload(api)
    assert res.status_code == 201, res.json()
    body = res.json()
    assert body["rows"] == 60 and body["task"] == "binary" and body["version"] == 1
    kinds = {c["name"]: c["kind"] for c in body["schema"]}
    assert kinds == {"cpu": "numeric", "agent": "categorical", "ok": "numeric"}
    assert upload(api).json()["version"] == 2


@pytest.mark.parametrize(
    ("fields", "content", "bad_field", "message"),
    [
        ({"target": "missing"}, CSV, "target", "not in the file"),
        ({}, "", "file", "empty"),
        ({}, b"\x00\x01\x02binary\x00" * 20, "file", "binary"),
        ({"target": "one"}, "a,one\n" + "1,1\n" * 30, "target", "distinct"),
        ({"pattern": "astrology"}, CSV, "pattern", "valid choice"),
        ({}, "a,b\n1,2\n3,4,5,6\n", "file", "well-formed"),
    ],
)
def test_it_refuses_bad_uploads_and_leaves_nothing_behind(api, fields, content, bad_field, message):
    res = upload(api, content=content, **fields)
    assert res.status_code == 400
    body = res.json()
    assert bad_field in body["fields"], body
    assert message in body["fields"][bad_field]
    assert Dataset.objects.count() == 0
    assert stored_files() == []


def test_it_requires_authentication(client, db):
    assert client.get("/api/v1/neural/datasets").status_code in (401, 403)
