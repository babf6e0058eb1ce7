"""Request body limits in front of Django (photondrift/limits.py): refused before the body is read."""

from __future__ import annotations

import asyncio
import json

import pytest
from asgiref.sync import async_to_sync
from django.contrib.auth.models import Group

from neural.api.permissions import VIEWERS_GROUP
from photondrift.asgi import application
from tests.factories import api_token

GIB = 1 << 30


def call(path: str, *, headers: dict[str, str], chunks: list[bytes]) -> tuple[int, dict, int]:
    """Run one POST through the whole ASGI application. Returns (status, JSON body, receive calls)."""
    pending = [
        {"type": "http.request", "body": chunk, "more_body": i < len(chunks) - 1} for i, chunk in enumerate(chunks)
    ]
    calls = {"receive": 0}
    sent: list[dict] = []

    async def receive():
        calls["receive"] += 1
        if not pending:
            await asyncio.Event().wait()  # a client waiting for its answer
        return pending.pop(0)

    async def send(message):
        sent.append(message)

    scope = {
        "type": "http",
        "asgi": {"version": "3.0"},
        "http_version": "1.1",
        "method": "POST",
        "scheme": "http",
        "path": path,
        "raw_path": path.encode(),
        "query_string": b"",
        "root_path": "",
        "headers": [(k.lower().encode(), v.encode()) for k, v in {"host": "testserver", **headers}.items()],
        "client": ("127.0.0.1", 5000),
        "server": ("testserver", 80),
    }
    async_to_sync(application)(scope, receive, send)
    start = next(m for m in sent if m["type"] == "http.response.start")
    body = b"".join(m.get("body", b"") for m in sent if m["type"] == "http.response.body")
    return start["status"], json.loads(body) if body.startswith(b"{") else {}, calls["receive"]


@pytest.fixture
def no_upload(monkeypatch):
    """Fail the test if the upload handler runs at all."""

    def refuse(*_a, **_k):
        raise AssertionError("the upload was handled")

    monkeypatch.setattr("neural.datasets.views.save_upload", refuse)


def test_it_refuses_an_anonymous_gigabyte_before_reading_it(db, no_upload):
    status, body, reads = call(
        "/api/v1/neural/datasets",
        headers={"content-type": "multipart/form-data; boundary=x", "content-length": str(GIB)},
        chunks=[b"x" * 1024],
    )
    assert status == 413 and "REQUEST_BODY_MAX_MB" in body["error"] and "body" in body["fields"]
    assert reads == 0  # not one byte was read, so nothing was spooled to /tmp


def test_it_holds_an_authenticated_upload_to_the_upload_limit(db, user, settings, no_upload):
    settings.DATA_UPLOAD_MAX_MB, settings.REQUEST_BODY_MAX_MB = 4, 1
    auth = {"authorization": f"Token {api_token(user)}", "content-type": "multipart/form-data; boundary=x"}
    status, body, reads = call("/api/v1/neural/datasets", headers={**auth, "content-length": str(5 << 20)}, chunks=[])
    assert status == 413 and "DATA_UPLOAD_MAX_MB" in body["error"] and reads == 0
    bogus = {**auth, "authorization": "Token not-a-token", "content-length": str(2 << 20)}
    status, body, reads = call("/api/v1/neural/datasets", headers=bogus, chunks=[])
    assert status == 413 and "REQUEST_BODY_MAX_MB" in body["error"] and reads == 0
    user.groups.add(Group.objects.get_or_create(name=VIEWERS_GROUP)[0])  # a viewer may not upload at all
    status, body, reads = call("/api/v1/neural/datasets", headers={**auth, "content-length": str(2 << 20)}, chunks=[])
    assert status == 413 and "REQUEST_BODY_MAX_MB" in body["error"] and reads == 0


def test_it_counts_a_body_without_a_length_and_stops_at_the_limit(db, settings):
    settings.REQUEST_BODY_MAX_MB = 1
    chunks = [b" " * (512 * 1024)] * 20  # 10 MB, chunked
    status, body, reads = call("/api/v1/neural/predict", headers={"content-type": "application/json"}, chunks=chunks)
    assert status == 413 and "REQUEST_BODY_MAX_MB" in body["error"]
    assert reads <= 3  # stopped at the first chunk over 1 MB, not after 10 MB


def test_it_refuses_a_length_that_is_not_a_number(db):
    status, body, reads = call("/api/v1/neural/predict", headers={"content-length": "-5"}, chunks=[b"{}"])
    assert status == 400 and "Content-Length" in body["error"] and reads == 0


def test_it_lets_a_body_within_the_limit_through(db):
    status, _, _ = call(
        "/api/v1/neural/predict", headers={"content-type": "application/json", "content-length": "2"}, chunks=[b"{}"]
    )
    assert status == 401  # Django answered: authentication, not the body limit


@pytest.mark.parametrize("depth", [40, 100_000])
def test_it_refuses_a_deeply_nested_json_body_with_a_400(api, depth):
    body = '{"pattern_type": "prediction", "training_data": "x", "config": ' + "[" * depth + "]" * depth + "}"
    res = api.post("/api/v1/neural/train", body, content_type="application/json")
    assert res.status_code == 400, res.content
    assert "nested" in res.json()["fields"]["body"]
