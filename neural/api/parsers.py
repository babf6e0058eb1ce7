"""The API's JSON body parser: DRF's, with a limit on nesting (``JSON_MAX_DEPTH``, the same cap
uploaded JSON files have) and no NUL characters in strings."""

from __future__ import annotations

from django.conf import settings
from rest_framework import parsers
from rest_framework.exceptions import ParseError

_CONTAINERS = (dict, list)


def deeper_than(value, limit: int) -> bool:
    """Whether lists/objects in ``value`` nest more than ``limit`` levels (a scalar is level 0)."""
    level, todo = 0, [value] if type(value) in _CONTAINERS else []
    while todo:
        level += 1
        if level > limit:
            return True
        todo = [v for c in todo for v in (c.values() if type(c) is dict else c) if type(v) in _CONTAINERS]
    return False


def holds_nul(value) -> bool:
    """Whether a string (or an object's key) anywhere in ``value`` holds a NUL character."""
    todo = [value]
    while todo:
        item = todo.pop()
        if type(item) is str:
            if "\x00" in item:
                return True
        elif type(item) is dict:
            todo.extend(item.keys())
            todo.extend(item.values())
        elif type(item) is list:
            todo.extend(item)
    return False


def check_body(data, raw: bytes | None = None) -> None:
    """A ParseError (400 naming the body) for JSON nested past ``JSON_MAX_DEPTH`` levels or holding a NUL
    character, which PostgreSQL text cannot store. With the ``raw`` bytes, a body without an
    escaped NUL (strict JSON has no other way to write one) is not searched for one."""
    limit = settings.JSON_MAX_DEPTH
    if deeper_than(data, limit):
        raise ParseError(f"JSON nested deeper than {limit} levels")
    if (raw is None or b"\\u0000" in raw) and holds_nul(data):
        raise ParseError("a string holds a NUL character (\\u0000), which no name or value may hold")


class JSONParser(parsers.JSONParser):
    """A body nested deeper than the limit is a 400, before any view walks it (Python's own
    parser would stop at its recursion limit with a 500)."""

    def parse(self, stream, media_type=None, parser_context=None):
        try:
            data = super().parse(stream, media_type, parser_context)
        except RecursionError:
            raise ParseError(f"JSON nested deeper than {settings.JSON_MAX_DEPTH} levels") from None
        check_body(data)
        return data
