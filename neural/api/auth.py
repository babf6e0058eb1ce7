"""Token authentication with a throttle on failures: a client that sends wrong tokens is answered
429 for a while (``TOKEN_FAILURE_RATE`` per IP address), however it spreads them over endpoints."""

from __future__ import annotations

from django.core.cache import cache
from drf_spectacular.contrib.knox_auth_token import KnoxTokenScheme
from knox.auth import TokenAuthentication as KnoxTokenAuthentication
from rest_framework import exceptions
from rest_framework.throttling import SimpleRateThrottle


class TokenFailureThrottle(SimpleRateThrottle):
    """Counts failed token checks per client address (DRF's rate syntax, e.g. ``20/min``)."""

    scope = "token_failure"
    cache = cache

    def get_cache_key(self, request, view=None) -> str:
        return self.cache_format % {"scope": self.scope, "ident": self.get_ident(request)}

    def refuses(self, request) -> float | None:
        """The seconds to wait when this address has failed too often, else None (records nothing)."""
        if self.rate is None:
            return None
        self.key = self.get_cache_key(request)
        self.history = self.cache.get(self.key, [])
        self.now = self.timer()
        while self.history and self.history[-1] <= self.now - self.duration:
            self.history.pop()
        return self.wait() if len(self.history) >= self.num_requests else None

    def record_failure(self, request) -> None:
        if self.rate is not None:
            self.refuses(request)
            self.history.insert(0, self.now)
            self.cache.set(self.key, self.history, self.duration)


class TokenAuthentication(KnoxTokenAuthentication):
    """knox's hashed tokens; after ``TOKEN_FAILURE_RATE`` failures an address is throttled."""

    def authenticate(self, request):
        throttle = TokenFailureThrottle()
        wait = throttle.refuses(request)
        if wait is not None:
            raise exceptions.Throttled(wait, detail="too many failed token checks from this address")
        try:
            return super().authenticate(request)
        except exceptions.AuthenticationFailed:
            throttle.record_failure(request)
            raise


class TokenScheme(KnoxTokenScheme):
    """The OpenAPI security scheme of TokenAuthentication (drf-spectacular matches exact classes)."""

    target_class = TokenAuthentication
    name = "tokenAuth"
