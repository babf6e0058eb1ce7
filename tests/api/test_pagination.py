"""Every paginated list (found in the OpenAPI schema) cuts an out-of-range ?limit= to its ceiling."""

from __future__ import annotations

from drf_spectacular.generators import SchemaGenerator

from neural.api.pagination import Pagination


def paginated_lists() -> list[str]:
    schema = SchemaGenerator().get_schema(request=None, public=True)
    return [
        path
        for path, operations in schema["paths"].items()
        if any(p["name"] == "limit" for p in operations.get("get", {}).get("parameters", []))
        and "{" not in path
        and "drift/history" not in path  # its own limit, from 1 to 1000 (tests/monitoring/test_views.py)
    ]


def test_every_list_answers_a_limit_past_the_database_integers(api, trained):
    lists = paginated_lists()
    assert "/api/v1/neural/models" in lists and len(lists) >= 6
    for path in lists:
        for query in ("limit=9223372036854775808", "limit=" + "9" * 5000, "offset=9223372036854775808"):
            res = api.get(f"{path}?{query}")
            assert res.status_code == 200, (path, query, res.content[:200])
            assert len(res.json()["results"]) <= Pagination.max_limit
