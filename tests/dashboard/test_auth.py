"""Websockets authenticated by the session cookie must come from a page of this site (same host
and port); token websockets are not browsers' and need no origin."""

from __future__ import annotations

import pytest
from channels.db import database_sync_to_async
from channels.testing import WebsocketCommunicator
from django.db import connections
from django.test import Client

from dashboard.auth import same_origin
from tests.factories import UserFactory, api_token

pytestmark = pytest.mark.django_db(transaction=True)


@pytest.fixture(autouse=True)
async def close_thread_connections():
    yield
    await database_sync_to_async(connections.close_all)()


@pytest.mark.parametrize(
    ("origin", "host", "ok"),
    [
        ("http://127.0.0.1:8000", "127.0.0.1:8000", True),
        ("http://127.0.0.1:9999", "127.0.0.1:8000", False),  # another port of the same host
        ("http://localhost:8000", "127.0.0.1:8000", False),
        ("https://neural.example.com", "neural.example.com", True),  # TLS ends at a proxy
        ("https://neural.example.com", "neural.example.com:443", True),
        ("http://neural.example.com", "neural.example.com:443", False),
        ("https://evil.example.com", "neural.example.com", False),
        ("null", "127.0.0.1:8000", False),
        ("", "127.0.0.1:8000", False),
    ],
)
def test_same_origin_compares_host_and_port(origin, host, ok):
    headers = [(b"host", host.encode())] + ([(b"origin", origin.encode())] if origin else [])
    assert same_origin({"type": "websocket", "headers": headers}) is ok


@database_sync_to_async
def _cookie_for_new_user() -> str:
    client = Client()
    client.force_login(UserFactory(username="browser"))
    return client.cookies["sessionid"].value


async def _connect(headers):
    from photondrift.asgi import application

    comm = WebsocketCommunicator(application, "/ws/dashboard/", headers=headers)
    connected, _ = await comm.connect()
    if connected:
        await comm.disconnect()
    return connected


async def test_a_cookie_websocket_from_another_port_is_refused():
    cookie = f"sessionid={await _cookie_for_new_user()}".encode()
    host = [(b"host", b"127.0.0.1:8000"), (b"cookie", cookie)]
    assert await _connect([*host, (b"origin", b"http://127.0.0.1:8000")])
    assert not await _connect([*host, (b"origin", b"http://127.0.0.1:9999")])
    assert not await _connect(host)  # no Origin: not a browser page of this site


async def test_a_token_websocket_needs_no_origin():
    key = await database_sync_to_async(lambda: api_token(UserFactory(username="ci")))()
    assert await _connect([(b"host", b"127.0.0.1:8000"), (b"authorization", f"Token {key}".encode())])
