"""django-celery-beat schedules (editable in the admin): scheduled retraining per model (the alert
evaluation is declared with every other periodic task in neural/periodic.py).

A retraining schedule is ``daily`` or ``weekly`` (an interval from when it was set), ``monthly``
(03:00 on the first of each month) or a five-field cron expression (``minute hour day-of-month
month day-of-week``, e.g. ``30 2 * * 1-5``), run in the ``TIME_ZONE`` setting.
"""

from __future__ import annotations

import json
from dataclasses import dataclass

from celery.schedules import crontab
from django.conf import settings
from django_celery_beat.models import CrontabSchedule, IntervalSchedule, PeriodicTask

from neural.errors import DataError
from neural.periodic import periodic_tasks_ensure

EVALUATION_TASK = "neural.monitoring.tasks.monitoring_evaluate_task"

RETRAIN_EVERY = {"daily": (1, IntervalSchedule.DAYS), "weekly": (7, IntervalSchedule.DAYS)}
MONTHLY = "0 3 1 * *"
CRON_FIELDS = ("minute", "hour", "day_of_month", "month_of_year", "day_of_week")
MAX_SCHEDULE_LENGTH = 100


@dataclass(frozen=True)
class Cron:
    minute: str
    hour: str
    day_of_month: str
    month_of_year: str
    day_of_week: str


def parse_schedule(text: str, *, field: str = "schedule") -> str | Cron:
    """``""`` (none), ``daily``, ``weekly``, or a :class:`Cron` for ``monthly`` and a cron expression.

    Raises:
        DataError: naming ``field``, for anything else (celery's own crontab parser judges each field).
    """
    text = " ".join((text or "").split())
    if text in ("", *RETRAIN_EVERY):
        return text
    expression = MONTHLY if text == "monthly" else text
    parts = expression.split(" ")
    if len(expression) > MAX_SCHEDULE_LENGTH or len(parts) != len(CRON_FIELDS):
        raise DataError(
            f"{text[:MAX_SCHEDULE_LENGTH]!r} is not daily, weekly, monthly or a 5-field cron expression "
            "(minute hour day-of-month month day-of-week, e.g. '30 2 * * 1-5')",
            field=field,
        )
    values = dict(zip(CRON_FIELDS, parts, strict=True))
    try:
        crontab(**values)
    except (ValueError, TypeError, IndexError, KeyError) as exc:
        raise DataError(f"{expression!r} is not a valid cron expression: {exc}", field=field) from exc
    return Cron(**values)


def evaluation_schedule_ensure() -> PeriodicTask:
    """The alert evaluation's beat row (declared in neural/periodic.py, written at every migrate)."""
    rows = periodic_tasks_ensure()
    return next(row for row in rows if row.task == EVALUATION_TASK)


def retrain_task_name(model) -> str:
    return f"monitoring: retrain {model.name}"


def retrain_schedule_set(*, model, schedule: str) -> PeriodicTask | None:
    """Create, change or (for an empty schedule) remove the model's retraining schedule."""
    name = retrain_task_name(model)
    parsed = parse_schedule(schedule)
    if not parsed:
        PeriodicTask.objects.filter(name=name).delete()
        return None
    if isinstance(parsed, Cron):
        cron, _ = CrontabSchedule.objects.get_or_create(**vars(parsed), timezone=settings.TIME_ZONE)
        when = {"crontab": cron, "interval": None}
    else:
        every, period = RETRAIN_EVERY[parsed]
        interval, _ = IntervalSchedule.objects.get_or_create(every=every, period=period)
        when = {"interval": interval, "crontab": None}
    task, _ = PeriodicTask.objects.update_or_create(
        name=name,
        defaults={
            **when,
            "task": "neural.monitoring.tasks.retrain_task",
            "args": json.dumps([model.pk, "schedule"]),
            "queue": "training",
            "enabled": True,
        },
    )
    return task
