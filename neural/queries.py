"""Query pieces shared by the apps' selectors."""

from __future__ import annotations

import re

from django.db.models import F, FloatField, Func

# A metric's name as the tables accept it in ?sort= and ?metric= (it also goes into a JSON path).
METRIC_KEY = re.compile(r"^[a-z][a-z0-9_]{0,59}$")


class JsonNumber(Func):
    """``metrics[key]`` as a float when it is a JSON number, else NULL (a string or a list there
    must not turn a sort into a database error)."""

    output_field = FloatField()

    def __init__(self, field: str, key: str) -> None:
        if not METRIC_KEY.match(key):
            raise ValueError(f"not a metric name: {key!r}")
        super().__init__(F(field))
        self.key = key

    def as_sql(self, compiler, connection, **extra):
        sql, params = compiler.compile(self.source_expressions[0])
        text = f"(CASE WHEN jsonb_typeof({sql} -> %s) = 'number' THEN ({sql} ->> %s)::double precision END)"
        return text, (*params, self.key, *params, self.key)

    def as_sqlite(self, compiler, connection, **extra):
        sql, params = compiler.compile(self.source_expressions[0])
        path = f'$."{self.key}"'  # the key matched METRIC_KEY: letters, digits and _ only
        text = f"(CASE WHEN json_type({sql}, %s) IN ('integer', 'real') THEN json_extract({sql}, %s) END)"
        return text, (*params, path, *params, path)
