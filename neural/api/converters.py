"""``<id:name>`` in URLs: a row id, a whole number the database's bigint can hold."""

from __future__ import annotations

from django.urls import register_converter
from django.urls.converters import IntConverter

MAX_ID = 2**63 - 1


class IdConverter(IntConverter):
    """Like ``<int:>``, but a number past bigint is no match (404), not a failing query (500)."""

    regex = "[0-9]{1,19}"

    def to_python(self, value: str) -> int:
        number = int(value)
        if number > MAX_ID:
            raise ValueError("past bigint")  # Django: no match
        return number


register_converter(IdConverter, "id")
