"""Refuse text that no database column can hold before any view reads it."""

from __future__ import annotations

from django.http import JsonResponse

NUL = "\x00"


class RefuseNulMiddleware:
    """A NUL character in the URL path or a query parameter is a 400 naming it (PostgreSQL text
    cannot hold one: a lookup by such a name would fail with a 500). Bodies: neural/api/parsers.py."""

    def __init__(self, get_response):
        self.get_response = get_response

    def __call__(self, request):
        problem = None
        if NUL in request.path:
            problem = "path"
        else:
            problem = next(
                (key for key, value in request.GET.lists() if NUL in key or any(NUL in v for v in value)), None
            )
        if problem is not None:
            message = f"{problem!r} holds a NUL character (\\u0000), which no name or value may hold"
            return JsonResponse({"error": message, "fields": {problem.replace(NUL, "\\u0000"): message}}, status=400)
        return self.get_response(request)
