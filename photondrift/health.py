"""GET /healthz: database, broker and channel layer, each reported. Open to anonymous callers,
who learn only ok or not per part; signed-in staff also see the driver names and error texts
(which may name internal hosts and ports)."""

from __future__ import annotations

import asyncio
import uuid

from asgiref.sync import async_to_sync
from channels.layers import get_channel_layer
from django.db import connection
from django.http import JsonResponse
from django.views.decorators.http import require_GET

from photondrift.celery import app as celery_app

PING_TIMEOUT_S = 5.0  # a channel layer that does not hand back its own message in this time is down


def _check(fn) -> dict:
    try:
        detail = fn()
        return {"ok": True, **({"detail": detail} if detail else {})}
    except Exception as exc:  # reported to the caller, which is the point of a health check
        return {"ok": False, "error": f"{type(exc).__name__}: {exc}"}


def _database() -> str:
    with connection.cursor() as cursor:
        cursor.execute("SELECT 1")
    return connection.vendor


def _broker() -> str:
    with celery_app.connection_for_write() as conn:
        conn.ensure_connection(max_retries=1, timeout=2)
        return conn.transport_cls if isinstance(conn.transport_cls, str) else conn.transport.driver_type


def _channel_layer() -> str:
    layer = get_channel_layer()

    async def ping() -> None:
        # One loop for the three calls: a pub/sub layer holds its subscriptions per event loop.
        channel = await layer.new_channel()
        await layer.send(channel, {"type": "health.ping", "id": uuid.uuid4().hex})
        await asyncio.wait_for(layer.receive(channel), PING_TIMEOUT_S)

    async_to_sync(ping)()
    return type(layer).__name__


def _staff(request) -> bool:
    """A staff member signed in, or sending a valid API token (a bad one is counted as the API counts it)."""
    from rest_framework.exceptions import APIException

    # lazy: health is imported by the URL conf before DRF's settings are needed
    from neural.api.auth import TokenAuthentication

    user = getattr(request, "user", None)
    if user is None or not user.is_authenticated:
        try:
            user = (TokenAuthentication().authenticate(request) or (None, None))[0]
        except APIException:  # a wrong or throttled token: the anonymous answer
            user = None
    return bool(user is not None and user.is_active and user.is_staff)


@require_GET
def healthz(request):
    checks = {"database": _check(_database), "broker": _check(_broker), "channel_layer": _check(_channel_layer)}
    ok = all(c["ok"] for c in checks.values())
    if not _staff(request):
        checks = {name: {"ok": c["ok"]} for name, c in checks.items()}
    return JsonResponse({"status": "ok" if ok else "degraded", "checks": checks}, status=200 if ok else 503)
