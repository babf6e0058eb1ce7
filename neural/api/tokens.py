"""API tokens (django-rest-knox): only a SHA-512 digest of each key is stored, the key is shown
once when it is made. ``Authorization: Token <key>`` as before."""

from __future__ import annotations

from datetime import timedelta

from knox.models import AuthToken

from neural.errors import DataError


def api_token_create(*, user, expiry_hours: int | None = None) -> str:
    """A new key for ``user``; ``expiry_hours`` None takes ``REST_KNOX['TOKEN_TTL']``, 0 never expires."""
    if not user.is_active:
        raise DataError(f"user {user.get_username()!r} is inactive", field="user")
    if expiry_hours is None:
        _, key = AuthToken.objects.create(user=user)
    elif expiry_hours < 0:
        raise DataError("must be 0 (never) or a number of hours", field="expiry_hours")
    else:
        _, key = AuthToken.objects.create(user=user, expiry=timedelta(hours=expiry_hours) if expiry_hours else None)
    return key


def api_tokens_revoke(*, user) -> int:
    """Delete every token of ``user``; returns how many there were."""
    count, _ = AuthToken.objects.filter(user=user).delete()
    return count
