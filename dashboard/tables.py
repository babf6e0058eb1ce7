"""Server-side tables: the request's ``page``, ``per_page`` and ``sort`` read once, a page of a
queryset cut with a bounded COUNT, and the links a template needs to page and sort.

The selectors build the filtered, sorted queryset (one query, joins by select_related); this
module only pages it, so a page is always two queries: COUNT (stopped at ``COUNT_CAP`` rows) and
the page itself, whatever the table holds.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from urllib.parse import urlencode

from django.http import QueryDict

from neural.errors import DataError

PER_PAGE_CHOICES = (25, 50, 100)
DEFAULT_PER_PAGE = 50
# Past this many matching rows the page says "more than N": a COUNT over a LIMITed subquery
# costs the same at ten thousand rows and at ten million.
COUNT_CAP = 100_000


@dataclass(frozen=True)
class Column:
    key: str
    label: str
    sortable: bool = True
    hidden: bool = False  # hidden until the user turns it on in the column chooser


@dataclass
class TablePage:
    rows: list
    page: int
    per_page: int
    total: int
    capped: bool
    sort: str
    query: dict[str, str]
    columns: list[Column] = field(default_factory=list)

    @property
    def pages(self) -> int:
        return max(1, -(-self.total // self.per_page))

    @property
    def first_row(self) -> int:
        return (self.page - 1) * self.per_page + 1 if self.rows else 0

    @property
    def last_row(self) -> int:
        return self.first_row + len(self.rows) - 1 if self.rows else 0

    def url(self, **change) -> str:
        """This table's query string with ``change`` applied (None drops a parameter)."""
        query = {**self.query, **change}
        return "?" + urlencode({k: v for k, v in query.items() if v not in (None, "")})

    @property
    def first_url(self) -> str:
        return self.url(page=1)

    @property
    def prev_url(self) -> str | None:
        return self.url(page=self.page - 1) if self.page > 1 else None

    @property
    def next_url(self) -> str | None:
        return self.url(page=self.page + 1) if self.page < self.pages else None

    @property
    def last_url(self) -> str | None:
        return self.url(page=self.pages) if self.page < self.pages and not self.capped else None

    def sort_links(self) -> list[dict]:
        """Per column: the URL that sorts by it (toggling direction) and the current direction."""
        links = []
        bare = self.sort.lstrip("-")
        for col in self.columns:
            direction = ("descending" if self.sort.startswith("-") else "ascending") if bare == col.key else None
            target = col.key if direction == "descending" else f"-{col.key}"
            links.append(
                {"column": col, "url": self.url(sort=target, page=None) if col.sortable else None, "dir": direction}
            )
        return links


def int_param(params: QueryDict, name: str, default: int, *, minimum: int = 1, maximum: int | None = None) -> int:
    """A whole-number GET parameter; anything unreadable falls back to the default, out-of-range
    values are clamped (a table URL is typed by hand and shared: it should still show a page)."""
    try:
        value = int(params.get(name, default))
    except (TypeError, ValueError):
        return default
    value = max(minimum, value)
    return min(value, maximum) if maximum is not None else value


def paginate(qs, *, params: QueryDict, sort: str, columns: list[Column], keep: tuple[str, ...]) -> TablePage:
    """One page of ``qs`` (already filtered and sorted by the selector)."""
    per_page = int_param(params, "per_page", DEFAULT_PER_PAGE, maximum=max(PER_PAGE_CHOICES))
    page = int_param(params, "page", 1)
    total = qs.order_by()[: COUNT_CAP + 1].count()
    capped = total > COUNT_CAP
    total = min(total, COUNT_CAP)
    pages = max(1, -(-total // per_page))
    page = min(page, pages)
    start = (page - 1) * per_page
    rows = list(qs[start : start + per_page])
    query = {k: params[k] for k in keep if params.get(k)}
    query.update(sort=sort, per_page=str(per_page), page=str(page))
    return TablePage(
        rows=rows, page=page, per_page=per_page, total=total, capped=capped, sort=sort, query=query, columns=columns
    )


def filtered_page(
    params: QueryDict, *, select, filters: tuple[str, ...], default_sort: str, columns: list[Column]
) -> tuple[TablePage, dict[str, str]]:
    """One page of ``select(**filters, sort=...)`` read from the GET parameters. A filter or sort
    the selector refuses is named in the returned errors and the unfiltered table is shown."""
    sort = params.get("sort") or default_sort
    errors: dict[str, str] = {}
    try:
        qs = select(**{k: params.get(k, "").strip() for k in filters}, sort=sort)
    except DataError as exc:
        errors[exc.field or "filter"] = exc.message
        sort, qs = default_sort, select(sort=default_sort)
    return paginate(qs, params=params, sort=sort, columns=columns, keep=filters), errors
