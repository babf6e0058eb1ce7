"""The API's JSON body parser: DRF's, with a limit on nesting (``API_JSON_MAX_DEPTH``) and no NUL
characters in strings."""

from __future__ import annotations

from django.conf import settings
from rest_framework import parsers
from rest_framework.exceptions import ParseError


def deeper_than(value, limit: int) -> bool:
    """Whether lists/objects in ``value`` nest more than ``limit`` levels (a scalar is level 0)."""
    return _problem(value, limit) == "depth"


def _problem(value, limit: int) -> str | None:
    """Which rule ``value`` breaks first: "nul" (a NUL character in a string or key), "depth"
    (lists/objects past ``limit`` levels), or None."""
    level, todo = 0, [value]
    while todo:
        if any(isinstance(v, str) and "\x00" in v for v in todo):
            return "nul"
        containers = [v for v in todo if isinstance(v, (dict, list))]
        if not containers:
            return None
        level += 1
        if level > limit:
            return "depth"
        todo = [x for c in containers for x in ([*c.keys(), *c.values()] if isinstance(c, dict) else c)]
    return None


def check_body(data, limit: int) -> None:
    """A ParseError (400 naming the body) for JSON nested past ``limit`` levels or holding a NUL
    character, which PostgreSQL text cannot store."""
    problem = _problem(data, limit)
    if problem == "depth":
        raise ParseError(f"JSON nested deeper than {limit} levels")
    if problem == "nul":
        raise ParseError("a string holds a NUL character (\\u0000), which no name or value may hold")


class JSONParser(parsers.JSONParser):
    """A body nested deeper than the limit is a 400, before any view walks it (Python's own
    parser would stop at its recursion limit with a 500)."""

    def parse(self, stream, media_type=None, parser_context=None):
        limit = settings.API_JSON_MAX_DEPTH
        try:
            data = super().parse(stream, media_type, parser_context)
        except RecursionError:
            raise ParseError(f"JSON nested deeper than {limit} levels") from None
        check_body(data, limit)
        return data
