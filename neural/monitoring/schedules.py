"""django-celery-beat schedules (editable in the admin): alert evaluation and scheduled retraining."""

from __future__ import annotations

import json

from django_celery_beat.models import IntervalSchedule, PeriodicTask

EVALUATION_TASK_NAME = "monitoring: evaluate alert rules"
EVALUATION_EVERY_S = 60
RETRAIN_EVERY = {"daily": (1, IntervalSchedule.DAYS), "weekly": (7, IntervalSchedule.DAYS)}


def evaluation_schedule_ensure(*, every_s: int = EVALUATION_EVERY_S) -> PeriodicTask:
    interval, _ = IntervalSchedule.objects.get_or_create(every=every_s, period=IntervalSchedule.SECONDS)
    task, _ = PeriodicTask.objects.get_or_create(
        name=EVALUATION_TASK_NAME,
        defaults={"interval": interval, "task": "neural.monitoring.tasks.monitoring_evaluate_task"},
    )
    return task


def retrain_schedule_set(*, model, schedule: str) -> PeriodicTask | None:
    """Create, change or (for an empty schedule) remove the model's retraining schedule."""
    name = f"monitoring: retrain {model.name}"
    if not schedule:
        PeriodicTask.objects.filter(name=name).delete()
        return None
    every, period = RETRAIN_EVERY[schedule]
    interval, _ = IntervalSchedule.objects.get_or_create(every=every, period=period)
    task, _ = PeriodicTask.objects.update_or_create(
        name=name,
        defaults={
            "interval": interval,
            "task": "neural.monitoring.tasks.retrain_task",
            "args": json.dumps([model.pk, "schedule"]),
            "queue": "training",
            "enabled": True,
        },
    )
    return task
