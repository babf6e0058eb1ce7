"""Every periodic task of the product, declared here and nowhere else.

``periodic_tasks_ensure`` writes them as django-celery-beat rows after every ``migrate`` (a
``post_migrate`` receiver connected in NeuralConfig.ready), so they exist from the first start in
both run modes: ``celery -A photondrift beat`` in production, the beat thread of ``make run``
(photondrift/embedded.py). Their intervals come from settings; an admin may disable one in the
Django admin and it stays disabled. Per-model retraining schedules are data, not declarations:
neural/monitoring/schedules.py makes them when a model's policy asks.
"""

from __future__ import annotations

from dataclasses import dataclass

from django.conf import settings


@dataclass(frozen=True)
class Periodic:
    name: str
    task: str
    every_s: int


def declared() -> tuple[Periodic, ...]:
    return (
        Periodic(
            name="monitoring: evaluate alert rules",
            task="neural.monitoring.tasks.monitoring_evaluate_task",
            every_s=settings.ALERT_EVALUATION_EVERY_S,
        ),
        Periodic(
            name="training: settle searches",
            task="neural.training.tasks.tuning_jobs_settle_task",
            every_s=60,
        ),
        Periodic(
            name="training: sweep stale sessions",
            task="neural.training.tasks.training_sessions_sweep_task",
            every_s=settings.TRAINING_SWEEP_EVERY_S,
        ),
        Periodic(
            name="training: recover stale cross-validation folds",
            task="neural.training.tasks.cross_validation_folds_recover_task",
            every_s=settings.TRAINING_SWEEP_EVERY_S,
        ),
    )


def periodic_tasks_ensure(**_) -> list:
    """Create or update the declared beat rows (task and interval; ``enabled`` stays as an admin
    set it). Safe to run again."""
    from django_celery_beat.models import IntervalSchedule, PeriodicTask  # the app registry is ready here

    rows = []
    for item in declared():
        interval, _ = IntervalSchedule.objects.get_or_create(every=item.every_s, period=IntervalSchedule.SECONDS)
        row, _ = PeriodicTask.objects.update_or_create(
            name=item.name, defaults={"task": item.task, "interval": interval}
        )
        rows.append(row)
    return rows
