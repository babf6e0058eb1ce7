"""django-celery-beat schedules (editable in the admin): scheduled retraining per model; the alert
evaluation is declared with every other periodic task in neural/periodic.py."""

from __future__ import annotations

import json

from django_celery_beat.models import IntervalSchedule, PeriodicTask

from neural.periodic import periodic_tasks_ensure

EVALUATION_TASK = "neural.monitoring.tasks.monitoring_evaluate_task"

RETRAIN_EVERY = {"daily": (1, IntervalSchedule.DAYS), "weekly": (7, IntervalSchedule.DAYS)}


def evaluation_schedule_ensure() -> PeriodicTask:
    """The alert evaluation's beat row (declared in neural/periodic.py, written at every migrate)."""
    rows = periodic_tasks_ensure()
    return next(row for row in rows if row.task == EVALUATION_TASK)


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
