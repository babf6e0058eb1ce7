"""Reads behind the runs table (`/sessions/`): training sessions filtered, searched and sorted
in one query, by a column or by any metric the run recorded (``TrainingSession.metrics``).

Filters come as a plain mapping (a page's GET parameters); a value that cannot mean anything is
a ``DataError`` naming the parameter, never a silently ignored filter.
"""

from __future__ import annotations

import json
from dataclasses import dataclass
from datetime import datetime, time

from django.db import connection
from django.db.models import F, Q, QuerySet
from django.utils import timezone
from django.utils.dateparse import parse_date, parse_datetime

from neural.datasets.models import Pattern
from neural.errors import DataError
from neural.queries import METRIC_KEY, JsonNumber
from neural.training.models import TrainingSession

# sort key (as in ?sort=) -> model field
SORT_FIELDS = {
    "id": "id",
    "name": "name",
    "model": "model_name",
    "run": "run_id",
    "pattern": "pattern",
    "dataset": "dataset__name",
    "status": "status",
    "epoch": "epoch",
    "created_at": "created_at",
    "started_at": "started_at",
    "finished_at": "finished_at",
}
NULLABLE = {"started_at", "finished_at"}
MAX_QUERY = 200
MAX_TAG = 40  # the longest tag PATCH train/{id} takes (neural/training/serializers.py TAG_PATTERN)


@dataclass(frozen=True)
class RunFilters:
    status: str = ""
    model: str = ""
    pattern: str = ""
    dataset: str = ""
    q: str = ""
    start: datetime | None = None
    end: datetime | None = None
    metric: str = ""
    metric_min: float | None = None
    metric_max: float | None = None
    option: str = ""
    option_value: object = None
    run: int | None = None  # the sessions of one `--config` run (TrainingRun)
    tag: str = ""


def _when(value: str, field: str, *, end_of_day: bool) -> datetime | None:
    if not value:
        return None
    parsed = parse_datetime(value)
    if parsed is None:
        day = parse_date(value)
        if day is None:
            raise DataError(f"{field} must be a date (YYYY-MM-DD) or a date and time", field=field)
        parsed = datetime.combine(day, time.max if end_of_day else time.min)
    return parsed if timezone.is_aware(parsed) else timezone.make_aware(parsed, timezone.get_current_timezone())


def _number(value: str, field: str) -> float | None:
    if not value:
        return None
    try:
        return float(value)
    except ValueError:
        raise DataError(f"{field} must be a number", field=field) from None


def _metric(value: str, field: str) -> str:
    if value and not METRIC_KEY.match(value):
        raise DataError(f"{field} must be a metric name such as val_accuracy", field=field)
    return value


def run_filters_parse(params) -> RunFilters:
    """The table's filters from a page's GET parameters (``from``/``to`` are dates or times)."""
    status = params.get("status", "")
    if status and status not in TrainingSession.Status.values:
        raise DataError(f"status must be one of {', '.join(TrainingSession.Status.values)}", field="status")
    pattern = params.get("pattern", "")
    if pattern and pattern not in Pattern.values:
        raise DataError(f"pattern must be one of {', '.join(Pattern.values)}", field="pattern")
    q = params.get("q", "").strip()
    if len(q) > MAX_QUERY:
        raise DataError(f"q is longer than {MAX_QUERY} characters", field="q")
    metric = _metric(params.get("metric", ""), "metric")
    low, high = _number(params.get("min", ""), "min"), _number(params.get("max", ""), "max")
    if (low is not None or high is not None) and not metric:
        raise DataError("min and max need a metric to compare", field="metric")
    option, option_value = _option(params)
    run = params.get("run", "").strip()
    if run and not (run.isascii() and run.isdigit() and len(run) < 19):
        raise DataError("run must be a run's id (a whole number)", field="run")
    tag = params.get("tag", "").strip()
    if len(tag) > MAX_TAG:
        raise DataError(f"tag is longer than {MAX_TAG} characters", field="tag")
    return RunFilters(
        run=int(run) if run else None,
        tag=tag,
        option=option,
        option_value=option_value,
        status=status,
        model=params.get("model", "").strip(),
        pattern=pattern,
        dataset=params.get("dataset", "").strip(),
        q=q,
        start=_when(params.get("from", ""), "from", end_of_day=False),
        end=_when(params.get("to", ""), "to", end_of_day=True),
        metric=metric,
        metric_min=low,
        metric_max=high,
    )


def _option(params) -> tuple[str, object]:
    """``option=learning_rate&value=0.01``: runs whose training options had that value (the value
    read as JSON when it is one: 0.01, true, [64, 32]; else as text)."""
    name, raw = params.get("option", "").strip(), params.get("value", "").strip()
    if not name and not raw:
        return "", None
    # No "__": the name goes into an ORM lookup, where it would reach into nested keys or name a
    # lookup (learning_rate__contains).
    if not name or not METRIC_KEY.match(name) or "__" in name:
        raise DataError("option must be a training option's name such as learning_rate", field="option")
    if len(raw) > MAX_QUERY:
        raise DataError(f"value is longer than {MAX_QUERY} characters", field="value")
    try:
        return name, json.loads(raw)
    except ValueError:
        return name, raw


def run_sort_check(sort: str) -> str:
    """A ``?sort=`` value: a column (``-started_at``) or a recorded metric (``val_accuracy``)."""
    bare = sort.lstrip("-")
    if bare in SORT_FIELDS or METRIC_KEY.match(bare):
        return sort
    raise DataError("sort must be a column or a metric name, optionally with a leading -", field="sort")


def run_table(*, filters: RunFilters, sort: str = "-created_at") -> QuerySet[TrainingSession]:
    """Matching sessions with their data set, sorted; ties broken by id so pages never overlap."""
    qs = TrainingSession.objects.select_related("dataset").defer("config", "search", "error", "claimed_by")
    qs = qs.filter(_where(filters))
    if filters.metric:
        qs = qs.annotate(metric_value=JsonNumber("metrics", filters.metric))
        if filters.metric_min is not None:
            qs = qs.filter(metric_value__gte=filters.metric_min)
        if filters.metric_max is not None:
            qs = qs.filter(metric_value__lte=filters.metric_max)
    descending, bare = sort.startswith("-"), run_sort_check(sort).lstrip("-")
    if bare in SORT_FIELDS:
        key = F(SORT_FIELDS[bare])
    else:
        qs = qs.annotate(sort_value=JsonNumber("metrics", bare))
        key = F("sort_value")
    if bare in NULLABLE:
        # Not started yet sorts as the newest: descending NULLS FIRST, ascending NULLS LAST, the
        # order PostgreSQL's index on started_at keeps (SQLite cannot index NULLS LAST).
        order = key.desc(nulls_first=True) if descending else key.asc(nulls_last=True)
    elif bare in SORT_FIELDS:
        order = key.desc() if descending else key.asc()
    else:  # a metric the run did not record sorts last either way
        order = key.desc(nulls_last=True) if descending else key.asc(nulls_last=True)
    return qs.order_by(order, "-id" if descending else "id")


def _where(f: RunFilters) -> Q:
    where = Q()
    if f.status:
        where &= Q(status=f.status)
    if f.model:
        where &= Q(model_name=f.model)
    if f.run is not None:
        where &= Q(run_id=f.run)
    if f.pattern:
        where &= Q(pattern=f.pattern)
    if f.dataset:
        name, _, number = f.dataset.partition(":v")
        where &= Q(dataset__name=name) & (Q(dataset__version=int(number)) if number.isdigit() else Q())
    if f.q:
        text = Q(name__icontains=f.q) | Q(model_name__icontains=f.q) | Q(dataset__name__icontains=f.q)
        where &= text | Q(pk=int(f.q)) if f.q.isdigit() else text
    if f.option:
        where &= Q(**{f"config__{f.option}": f.option_value})  # a plain key: checked in _option
    if f.tag:
        where &= _has_tag(f.tag)
    if f.start:
        where &= Q(created_at__gte=f.start)
    if f.end:
        where &= Q(created_at__lte=f.end)
    return where


def _has_tag(tag: str) -> Q:
    """Runs carrying ``tag`` exactly: JSON containment on PostgreSQL; SQLite (the embedded
    server) has none, so there the stored list's text must hold the tag as a JSON string."""
    if connection.features.supports_json_field_contains:
        return Q(tags__contains=[tag])
    return Q(tags__icontains=json.dumps(tag))


def run_table_choices() -> dict[str, list[str]]:
    """Values offered by the filter drop-downs (distinct model names; a handful of queries)."""
    names = TrainingSession.objects.order_by("model_name").values_list("model_name", flat=True).distinct()
    return {
        "statuses": list(TrainingSession.Status.values),
        "patterns": list(Pattern.values),
        "models": list(names[:500]),
    }
