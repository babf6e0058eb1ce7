"""Websocket authentication by ``Authorization: Token <key>`` (knox: hashed tokens)."""

from __future__ import annotations

from channels.db import database_sync_to_async
from django.contrib.auth.models import AnonymousUser


def _token_key(scope) -> str | None:
    for name, value in scope.get("headers", []):
        if name == b"authorization":
            kind, _, key = value.decode("latin-1").partition(" ")
            if kind.lower() == "token" and key.strip():
                return key.strip()
    return None


def has_token_header(scope) -> bool:
    return _token_key(scope) is not None


@database_sync_to_async
def _user_for(key: str):
    from knox.auth import TokenAuthentication  # no request here: nothing to throttle by
    from rest_framework.exceptions import AuthenticationFailed

    if not key:
        return AnonymousUser()
    try:
        user, _ = TokenAuthentication().authenticate_credentials(key.encode())
    except AuthenticationFailed:
        return AnonymousUser()
    return user


class TokenAuthMiddleware:
    def __init__(self, app) -> None:
        self.app = app

    async def __call__(self, scope, receive, send):
        scope = dict(scope, user=await _user_for(_token_key(scope) or ""))
        return await self.app(scope, receive, send)
