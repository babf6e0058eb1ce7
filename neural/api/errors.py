"""One error shape for the whole API: ``{"error": ..., "fields": {...}}``."""

from __future__ import annotations

from django.http import Http404
from rest_framework import exceptions, status
from rest_framework.response import Response
from rest_framework.views import exception_handler as drf_exception_handler

from neural.errors import ArtifactIntegrityError, Conflict, DataError, InputValidationError, NotFound


def _flatten(detail) -> dict[str, str]:
    if isinstance(detail, dict):
        out = {}
        for key, value in detail.items():
            nested = _flatten(value)
            if set(nested) == {""}:
                out[str(key)] = nested[""]
            else:
                out.update({f"{key}.{k}" if k else str(key): v for k, v in nested.items()})
        return out
    if isinstance(detail, list):
        if all(not isinstance(d, (dict, list)) for d in detail):
            return {"": " ".join(str(d) for d in detail)}
        out = {}
        for i, item in enumerate(detail):
            out.update({f"{i}.{k}" if k else str(i): v for k, v in _flatten(item).items()})
        return out
    return {"": str(detail)}


def _body(error: str, fields: dict | None = None, code: int = 400) -> Response:
    return Response({"error": error, "fields": fields or {}}, status=code)


def exception_handler(exc, context):
    if isinstance(exc, InputValidationError):
        return _body(exc.message, exc.fields)
    if isinstance(exc, NotFound):
        return _body(exc.message, {exc.field: exc.message} if exc.field else {}, status.HTTP_404_NOT_FOUND)
    if isinstance(exc, Conflict):
        return _body(exc.message, {exc.field: exc.message} if exc.field else {}, status.HTTP_409_CONFLICT)
    if isinstance(exc, ArtifactIntegrityError):
        return _body(f"the model artifact failed verification: {exc.message}", {}, status.HTTP_503_SERVICE_UNAVAILABLE)
    if isinstance(exc, DataError):
        return _body(exc.message, {exc.field or "non_field_errors": exc.message})
    if isinstance(exc, Http404):
        return _body("not found", {}, status.HTTP_404_NOT_FOUND)
    response = drf_exception_handler(exc, context)
    if response is None:
        return None
    if isinstance(exc, exceptions.ValidationError):
        fields = _flatten(exc.detail)
        first = next(iter(fields.items()), ("", "invalid input"))
        return _body(f"{first[0]}: {first[1]}" if first[0] else first[1], fields)
    if isinstance(exc, exceptions.ParseError):
        return _body(f"malformed request body: {exc.detail}", {"body": str(exc.detail)})
    detail = exc.detail if isinstance(exc, exceptions.APIException) else str(exc)
    response.data = {"error": str(detail), "fields": {}}
    return response
