"""Celery tasks: take an id, call one service."""

from __future__ import annotations

from celery import shared_task

from neural.training.services import training_session_run


@shared_task(bind=True, name="neural.training.tasks.training_session_run_task")
def training_session_run_task(self, session_id: int) -> str:
    return training_session_run(session_id=session_id, ran_in=self.request.hostname).status
