"""Errors the engine raises; callers map them to HTTP 400 / exit 2 or to a failed session."""

from __future__ import annotations


class EngineError(Exception):
    """Base class. ``field`` names the input at fault when there is one."""

    def __init__(self, message: str, *, field: str | None = None) -> None:
        super().__init__(message)
        self.message = message
        self.field = field


class DataError(EngineError):
    """The data cannot be used as asked (bad target, too few rows, one class...)."""


class InputValidationError(EngineError):
    """Prediction input does not match the feature schema. ``fields`` maps name -> problem."""

    def __init__(self, fields: dict[str, str]) -> None:
        super().__init__("input does not match the model's feature schema")
        self.fields = fields


class UnsafePath(DataError):
    """A storage path that would leave its root (``..``, an absolute path, a symbolic link out)."""


class ArtifactIntegrityError(EngineError):
    """A model artifact is missing, truncated or its checksum does not match."""


class StopTraining(Exception):
    """Raised by a callback to stop training at the next batch boundary."""


class NonFiniteLoss(EngineError):
    """The loss became NaN or infinite; the run stops with a clear status."""
