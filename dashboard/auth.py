"""Websocket authentication: ``Authorization: Token <key>`` (knox: hashed tokens), and the
same-origin rule for connections that a browser's session cookie authenticates."""

from __future__ import annotations

from urllib.parse import urlsplit

from channels.db import database_sync_to_async
from channels.security.websocket import WebsocketDenier
from django.conf import settings
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


_DEFAULT_PORTS = {"http": 80, "https": 443}


def _header(scope, name: bytes) -> str:
    return next((v.decode("latin-1") for k, v in scope.get("headers", []) if k == name), "")


def _host_port(netloc: str, scheme: str) -> str:
    """``host:port`` with the scheme's default port made explicit."""
    host, sep, port = netloc.lower().rpartition(":")
    if not sep or "]" in port:  # no port (an IPv6 literal's colons are inside brackets)
        return f"{netloc.lower()}:{_DEFAULT_PORTS.get(scheme, 0)}"
    return f"{host}:{port}"


def same_origin(scope) -> bool:
    """The Origin a browser sent is the site it connects to (host and port, as Django's CSRF
    check compares them), or one of CSRF_TRUSTED_ORIGINS. A page on another port of the same
    host is another origin: channels' AllowedHostsOriginValidator alone lets it in."""
    origin, host = _header(scope, b"origin"), _header(scope, b"host")
    if not origin or not host:
        return False
    if origin in settings.CSRF_TRUSTED_ORIGINS:
        return True
    parts = urlsplit(origin)
    if parts.scheme not in _DEFAULT_PORTS or not parts.netloc:
        return False
    # Behind a TLS proxy the socket's own scheme says ws while the page was https: the Host
    # header is compared with the origin's scheme's default port.
    return _host_port(parts.netloc, parts.scheme) == _host_port(host, parts.scheme)


class SameOriginValidator:
    """Refuses (403 before accept) a cookie websocket whose Origin is not this site."""

    def __init__(self, app) -> None:
        self.app = app

    async def __call__(self, scope, receive, send):
        if scope["type"] == "websocket" and not same_origin(scope):
            return await WebsocketDenier()(scope, receive, send)
        return await self.app(scope, receive, send)
