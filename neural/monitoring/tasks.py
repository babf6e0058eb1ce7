"""Celery tasks: take ids, call one service."""

from __future__ import annotations

from celery import shared_task

from neural.monitoring.alerts import alerts_evaluate
from neural.monitoring.delivery import alert_deliver, webhook_attempt
from neural.monitoring.retraining import retrain_run
from neural.registry.models import RegisteredModel


@shared_task(name="neural.monitoring.tasks.monitoring_evaluate_task")
def monitoring_evaluate_task() -> int:
    """Run by celery beat (the schedule `neural alerts --setup` creates)."""
    return len(alerts_evaluate())


@shared_task(name="neural.monitoring.tasks.monitoring_evaluate_model_task")
def monitoring_evaluate_model_task(model_id: int) -> int:
    model = RegisteredModel.objects.filter(pk=model_id).first()
    return len(alerts_evaluate(model=model)) if model else 0


@shared_task(bind=True, name="neural.monitoring.tasks.alert_deliver_task")
def alert_deliver_task(self, alert_id: int) -> bool:
    return alert_deliver(alert_id=alert_id, worker=self.request.hostname)


@shared_task(bind=True, name="neural.monitoring.tasks.alert_webhook_task")
def alert_webhook_task(self, alert_id: int, attempt: int) -> bool:
    delay = webhook_attempt(alert_id=alert_id, attempt=attempt, worker=self.request.hostname)
    if delay is not None:
        alert_webhook_task.apply_async((alert_id, attempt + 1), countdown=delay)
    return delay is None


@shared_task(name="neural.monitoring.tasks.retrain_task")
def retrain_task(model_id: int, reason: str) -> str:
    model = RegisteredModel.objects.filter(pk=model_id).first()
    return retrain_run(model=model, reason=reason).decision if model else "missing"
