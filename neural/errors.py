"""Domain errors shared by the apps' services; the API maps them to 4xx, commands to exit 2.

``DataError`` (400, names a field) and ``InputValidationError`` (400, one entry per field) come
from the engine and are re-exported so callers import one module.
"""

from __future__ import annotations

from collections.abc import Iterator
from contextlib import contextmanager

from neural.engine.errors import ArtifactIntegrityError, DataError, EngineError, InputValidationError, UnsafePath

__all__ = [
    "ArtifactIntegrityError",
    "Conflict",
    "DataError",
    "EngineError",
    "InputValidationError",
    "NotFound",
    "UnsafePath",
    "named_in_body",
]


class NotFound(EngineError):
    """The named object does not exist (404)."""


class Conflict(EngineError):
    """The object is in a state that forbids the action (409)."""


@contextmanager
def named_in_body(field: str) -> Iterator[None]:
    """A lookup of something a request body names: when it does not exist, that is bad input
    (400 naming ``field``), not a missing URL (404)."""
    try:
        yield
    except NotFound as exc:
        raise DataError(exc.message, field=field) from exc
