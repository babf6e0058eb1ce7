"""The API's one pagination: DRF's limit/offset with a ceiling on ``limit``."""

from __future__ import annotations

from rest_framework.pagination import LimitOffsetPagination


class Pagination(LimitOffsetPagination):
    """``?limit=`` above ``max_limit`` is cut to it (DRF's own rule for a ceiling), so no limit
    reaches the database beyond its integer range. (An ``?offset=`` past the rows gives an empty
    page before any query, whatever its size.)"""

    max_limit = 1000
