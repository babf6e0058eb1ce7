"""Request body limits, enforced in front of Django before any byte of a body is read.

Django's ASGI handler reads (and spools to a temporary file) the whole body before any Django
middleware or view runs, so the limit lives here, around the ASGI application:

- A declared ``Content-Length`` over the limit is answered 413 at once; the body is never read.
- A body without one (chunked) is counted while it is read, and refused at the first byte over.
- Only upload endpoints (``UPLOAD_PATHS``) take up to ``DATA_UPLOAD_MAX_MB``, and only from a
  caller who is authenticated and not a viewer, checked from the headers alone before the body is
  read; every other request, and every anonymous one, is held to ``REQUEST_BODY_MAX_MB``.

The answer has the API's error shape: ``{"error": ..., "fields": {"body": ...}}``.
"""

from __future__ import annotations

import io
import json
from importlib import import_module

from asgiref.sync import sync_to_async
from django.conf import settings

from neural.api.permissions import is_viewer

MB = 1024 * 1024
# POST endpoints that take a file upload (multipart); everything else is JSON or a form.
UPLOAD_PATHS = ("/api/v1/neural/datasets",)


def _content_length(scope) -> int | str | None:
    """The declared length, None when absent, or "bad" when it cannot be trusted."""
    values = {v for k, v in scope.get("headers", []) if k.lower() == b"content-length"}
    if not values:
        return None
    if len(values) > 1:
        return "bad"
    raw = values.pop().strip()
    return int(raw) if raw.isdigit() and len(raw) < 19 else "bad"


def _may_upload(scope) -> bool:
    """Whether the caller's session cookie or token header names an active user who may write
    (not a viewer): the same authentication the request meets later, run on a body-less copy."""
    user = _caller(scope)
    return user is not None and not is_viewer(user)


def _caller(scope):
    from django.contrib.auth import get_user
    from django.core.handlers.asgi import ASGIRequest
    from rest_framework.authentication import SessionAuthentication
    from rest_framework.exceptions import APIException
    from rest_framework.request import Request
    from rest_framework.settings import api_settings

    request = ASGIRequest({**scope, "method": "GET"}, io.BytesIO())
    request.session = import_module(settings.SESSION_ENGINE).SessionStore(
        request.COOKIES.get(settings.SESSION_COOKIE_NAME)
    )
    user = get_user(request)
    if user.is_authenticated:
        return user
    wrapped = Request(request)
    for authenticator in api_settings.DEFAULT_AUTHENTICATION_CLASSES:
        if issubclass(authenticator, SessionAuthentication):
            continue  # done above, without the CSRF check that would read the body
        try:
            found = authenticator().authenticate(wrapped)
        except APIException:
            return None
        if found:
            return found[0]
    return None


async def _limit_for(scope, declared: int | None) -> tuple[int, str]:
    small = settings.REQUEST_BODY_MAX_MB * MB, "REQUEST_BODY_MAX_MB"
    if scope.get("path", "").rstrip("/") not in UPLOAD_PATHS:
        return small
    upload = settings.DATA_UPLOAD_MAX_MB * MB, "DATA_UPLOAD_MAX_MB"
    anonymous = min(small, upload)
    if declared is not None and declared <= anonymous[0]:
        return anonymous  # within the limit whoever asks: no need to look the caller up
    if await sync_to_async(_may_upload)(scope):
        return upload
    return anonymous


async def _refuse(send, status: int, message: str) -> None:
    body = json.dumps({"error": message, "fields": {"body": message}}).encode()
    headers = [(b"content-type", b"application/json"), (b"content-length", str(len(body)).encode())]
    await send({"type": "http.response.start", "status": status, "headers": [*headers, (b"connection", b"close")]})
    await send({"type": "http.response.body", "body": body})


def _too_large(limit: int, setting: str) -> str:
    return f"request body is over the {limit // MB} MB limit ({setting})"


class BodyLimitMiddleware:
    """ASGI middleware: refuse request bodies over their limit before they are read."""

    def __init__(self, app) -> None:
        self.app = app

    async def __call__(self, scope, receive, send):
        if scope["type"] != "http":
            return await self.app(scope, receive, send)
        declared = _content_length(scope)
        if declared == "bad":
            return await _refuse(send, 400, "Content-Length is not a single whole number")
        limit, setting = await _limit_for(scope, declared)
        if declared is not None and declared > limit:
            return await _refuse(send, 413, _too_large(limit, setting))
        state = {"read": 0, "over": False, "started": False}

        async def counted_receive():
            if state["over"]:
                return {"type": "http.disconnect"}
            message = await receive()
            if message["type"] == "http.request":
                state["read"] += len(message.get("body", b""))
                if state["read"] > limit:
                    state["over"] = True  # Django stops reading at a disconnect and answers nothing
                    return {"type": "http.disconnect"}
            return message

        async def tracked_send(message):
            if message["type"] == "http.response.start":
                state["started"] = True
            await send(message)

        await self.app(scope, counted_receive, tracked_send)
        if state["over"] and not state["started"]:
            await _refuse(send, 413, _too_large(limit, setting))
