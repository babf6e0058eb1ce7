"""The prediction log table: every index is paid for by each of its 10,000-row writes."""

from __future__ import annotations

import pytest
from django.db import connection

from neural.serving.models import PredictionLog


def test_the_log_has_only_its_primary_key_and_the_version_time_index(db):
    if connection.vendor != "postgresql":
        pytest.skip("indexes as PostgreSQL reports them")
    with connection.cursor() as cursor:
        cursor.execute("SELECT indexdef FROM pg_indexes WHERE tablename = %s", [PredictionLog._meta.db_table])
        columns = sorted(row[0].rpartition(" USING btree ")[2] for row in cursor.fetchall())
    assert columns == ["(id)", "(model_version_id, created_at)"]
