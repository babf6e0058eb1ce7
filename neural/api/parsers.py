"""The API's JSON body parser: DRF's, with a limit on nesting (``API_JSON_MAX_DEPTH``)."""

from __future__ import annotations

from django.conf import settings
from rest_framework import parsers
from rest_framework.exceptions import ParseError


def deeper_than(value, limit: int) -> bool:
    """Whether lists/objects in ``value`` nest more than ``limit`` levels (a scalar is level 0)."""
    level, todo = 0, [value]
    while todo:
        containers = [v for v in todo if isinstance(v, (dict, list))]
        if not containers:
            return False
        level += 1
        if level > limit:
            return True
        todo = [child for c in containers for child in (c.values() if isinstance(c, dict) else c)]
    return False


class JSONParser(parsers.JSONParser):
    """A body nested deeper than the limit is a 400, before any view walks it (Python's own
    parser would stop at its recursion limit with a 500)."""

    def parse(self, stream, media_type=None, parser_context=None):
        limit = settings.API_JSON_MAX_DEPTH
        try:
            data = super().parse(stream, media_type, parser_context)
        except RecursionError:
            raise ParseError(f"JSON nested deeper than {limit} levels") from None
        if deeper_than(data, limit):
            raise ParseError(f"JSON nested deeper than {limit} levels")
        return data
