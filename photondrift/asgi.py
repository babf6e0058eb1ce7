"""ASGI entry point: Django for HTTP, Channels for /ws/ (session cookie or token header)."""

from __future__ import annotations

import gc
import os

from django.core.asgi import get_asgi_application

os.environ.setdefault("DJANGO_SETTINGS_MODULE", "photondrift.settings")
django_asgi_app = get_asgi_application()

from channels.auth import AuthMiddlewareStack  # noqa: E402
from channels.routing import ProtocolTypeRouter, URLRouter  # noqa: E402
from channels.security.websocket import AllowedHostsOriginValidator  # noqa: E402

from dashboard.auth import SameOriginValidator, TokenAuthMiddleware, has_token_header  # noqa: E402
from dashboard.routing import websocket_urlpatterns  # noqa: E402
from photondrift.limits import BodyLimitMiddleware  # noqa: E402

_router = URLRouter(websocket_urlpatterns)
# A cookie connection must come from a page of this very site: host in ALLOWED_HOSTS and an
# Origin of the same host and port (or in CSRF_TRUSTED_ORIGINS).
_cookie_app = AllowedHostsOriginValidator(SameOriginValidator(AuthMiddlewareStack(_router)))
_token_app = TokenAuthMiddleware(_router)


async def websocket_app(scope, receive, send):
    # A token header is not sent by browsers on their own, so it needs no origin check; a cookie is.
    app = _token_app if has_token_header(scope) else _cookie_app
    return await app(scope, receive, send)


# Body limits sit in front of Django, which reads (and spools) a whole body before its middleware runs.
application = ProtocolTypeRouter({"http": BodyLimitMiddleware(django_asgi_app), "websocket": websocket_app})

# What is loaded by now (Django, torch, numpy: about 400,000 objects) lives as long as the process.
# Frozen, a full collection no longer walks it: one took 0.4 s here, and the slowest metrics API
# reads of benchmarks/dashboard_scale.py (0.25-0.32 s of CPU against 0.03-0.06 s) were those pauses.
gc.freeze()
