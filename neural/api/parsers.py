"""The API's JSON parser: DRF's, with the nesting of a request body capped (JSON_MAX_DEPTH)."""

from __future__ import annotations

from rest_framework import exceptions, parsers

from neural.datasets.limits import check_depth
from neural.errors import DataError


class JSONParser(parsers.JSONParser):
    """A body nested deeper than JSON_MAX_DEPTH is a 400 naming ``body``; one too deep for
    Python's parser itself (which raises RecursionError, a 500 before) too."""

    def parse(self, stream, media_type=None, parser_context=None):
        try:
            data = super().parse(stream, media_type, parser_context)
            return check_depth(data, what="request body", field="body")
        except RecursionError as exc:
            raise exceptions.ParseError("request body is nested too deeply (JSON_MAX_DEPTH)") from exc
        except DataError as exc:
            raise exceptions.ParseError(exc.message) from exc
