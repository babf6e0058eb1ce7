"""Model fields of the serving app."""

from __future__ import annotations

from django.db import models


class TextJSONField(models.JSONField):
    """A ``JSONField`` stored as PostgreSQL ``json`` (the text, checked) rather than ``jsonb``.

    For the prediction log, written 10,000 rows per ``COPY`` and read whole: PostgreSQL only
    validates ``json`` where it converts ``jsonb`` to its binary form, ~30% of a ``COPY``'s time
    (measured in docs/registry.md). Nothing queries inside these values (``has_key``,
    ``contains`` and the other ``jsonb`` operators would fail on this column, as would
    ``distinct()`` over whole rows: ``json`` has no equality); ``->`` key transforms still work.
    Other databases store what ``JSONField`` stores there.
    """

    def db_type(self, connection) -> str:
        if connection.vendor == "postgresql":
            return "json"
        return super().db_type(connection)

    def from_db_value(self, value, expression, connection):
        # psycopg decodes ``json`` itself (Django has it hand ``jsonb`` over as text).
        if value is not None and not isinstance(value, str):
            return value
        return super().from_db_value(value, expression, connection)
