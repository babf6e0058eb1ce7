"""Every periodic task is declared in neural/periodic.py and exists from the first migrate on."""

from __future__ import annotations

from django_celery_beat.models import PeriodicTask

import neural.monitoring.tasks
import neural.training.tasks
from neural.periodic import declared, periodic_tasks_ensure
from photondrift.celery import app

TASK_MODULES = (neural.monitoring.tasks, neural.training.tasks)  # imported: their tasks registered


def test_it_has_every_declared_task_after_migrate_alone(db):
    # The test database was made by `migrate`; nobody ran `neural alerts --setup` or a search.
    rows = {row.name: row for row in PeriodicTask.objects.all()}
    for item in declared():
        assert rows[item.name].task == item.task and rows[item.name].interval.every == item.every_s
        assert item.task in app.tasks  # a registered task, not a typo


def test_it_follows_the_interval_setting_and_keeps_an_admins_disable(db, settings):
    PeriodicTask.objects.filter(name="training: sweep stale sessions").update(enabled=False)
    settings.TRAINING_SWEEP_EVERY_S = 7
    periodic_tasks_ensure()
    row = PeriodicTask.objects.get(name="training: sweep stale sessions")
    assert row.interval.every == 7 and not row.enabled
    assert PeriodicTask.objects.filter(name="training: sweep stale sessions").count() == 1
