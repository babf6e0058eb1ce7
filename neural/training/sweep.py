"""Sessions whose process died: found by their stale heartbeat and resumed, failed or stopped.

A running session's process refreshes ``heartbeat_at`` every few seconds (progress.HEARTBEAT_S).
When it dies (``kill -9``, a lost host) its row stays ``running`` and, with the embedded file
broker, its message is already gone. The sweep runs when a worker starts (Celery ``worker_ready``,
or the embedded server's start) and on the beat schedule (neural/periodic.py); for each session
silent for TRAINING_STALE_AFTER_S it takes the row with one conditional UPDATE (so of two
sweepers exactly one acts) and either

- re-queues it to resume from its last checkpoint (``resumed_count`` counts these), or
- fails it with the reason, when TRAINING_RESUME_ATTEMPTS resumes were spent or no checkpoint
  was written yet, or
- stops it, when a stop was asked while nothing was running it.

Checkpoints are removed whenever a session ends here, as the run itself does when it ends.
"""

from __future__ import annotations

import logging
import shutil
from datetime import datetime, timedelta
from pathlib import Path

from django.conf import settings
from django.db import transaction
from django.db.models import F, Q
from django.utils import timezone

from neural.training.heartbeat import worker_started_at
from neural.training.models import SessionLog, TrainingSession
from neural.training.progress import broadcast_status
from photondrift.celery import app as celery_app

logger = logging.getLogger(__name__)
RUN_TASK = "neural.training.tasks.training_session_run_task"
Status = TrainingSession.Status


def checkpoint_dir(session_id: int) -> Path:
    return Path(settings.PHOTONDRIFT_HOME) / "checkpoints" / str(session_id)


def checkpoint_drop(session_id: int) -> None:
    """Remove the session's checkpoints (the run ended, or will never resume)."""
    shutil.rmtree(checkpoint_dir(session_id), ignore_errors=True)


def has_checkpoint(session_id: int) -> bool:
    return (checkpoint_dir(session_id) / "checkpoint.json").exists()


def stale_after_s() -> float:
    """A running session whose heartbeat is older than this lost its process."""
    return float(settings.TRAINING_STALE_AFTER_S)


def is_stale(session: TrainingSession, now: datetime | None = None) -> bool:
    beat = session.heartbeat_at
    now = now or timezone.now()
    return beat is None or (now - beat).total_seconds() >= stale_after_s()


def training_sessions_sweep(*, orphaned_by: str = "", since: datetime | None = None) -> dict[str, list[int]]:
    """Recover every running session whose process died; returns the ids by outcome.

    ``orphaned_by`` (a worker's name) and ``since`` (when that worker started): a worker that
    starts knows its own previous life is over, so the sessions it claimed before ``since`` are
    recovered at once instead of after TRAINING_STALE_AFTER_S.
    """
    now = timezone.now()
    stale = now - timedelta(seconds=stale_after_s())
    dead = Q(heartbeat_at__lt=stale) | Q(heartbeat_at=None)
    if orphaned_by and since is not None:
        dead |= Q(claimed_by__startswith=f"{orphaned_by}:", heartbeat_at__lt=since)
    outcome: dict[str, list[int]] = {"resumed": [], "failed": [], "stopped": [], "resent": []}
    for session in TrainingSession.objects.filter(dead, status=Status.RUNNING):
        done = training_session_recover(session=session)
        if done:
            outcome[done].append(session.pk)
    for session_id in TrainingSession.objects.filter(status=Status.QUEUED, heartbeat_at__lt=stale).values_list(
        "pk", flat=True
    ):
        if _resend(session_id, stale):
            outcome["resent"].append(session_id)
    if any(outcome.values()):
        logger.warning("stale training sessions: %s", outcome)
    return outcome


def training_session_recover(*, session: TrainingSession, enqueue: bool = True) -> str | None:
    """Resume, fail or stop one running session that is known dead (``session`` as last read).

    Returns "resumed", "failed" or "stopped"; None when another process changed the row first.
    With ``enqueue`` False the caller runs the re-queued session itself (a redelivered message).
    """
    claim = TrainingSession.objects.filter(
        pk=session.pk, status=Status.RUNNING, claimed_by=session.claimed_by, heartbeat_at=session.heartbeat_at
    )
    attempts = settings.TRAINING_RESUME_ATTEMPTS
    if session.stop_requested:
        return _end(claim, session, Status.STOPPED, "", "its worker stopped answering after a stop was asked")
    if session.resumed_count >= attempts:
        reason = (
            f"its worker stopped answering at epoch {session.epoch}; it was resumed {session.resumed_count} "
            f"time(s) already, the most TRAINING_RESUME_ATTEMPTS allows"
        )
        return _end(claim, session, Status.FAILED, reason, reason)
    if not has_checkpoint(session.pk):
        reason = "its worker stopped answering before the first epoch's checkpoint was written; start it again"
        return _end(claim, session, Status.FAILED, reason, reason)
    with transaction.atomic():
        if not claim.update(
            status=Status.QUEUED, claimed_by="", heartbeat_at=timezone.now(), resumed_count=F("resumed_count") + 1
        ):
            return None
        SessionLog.objects.create(
            session_id=session.pk,
            level="warning",
            message=f"its worker stopped answering at epoch {session.epoch}; queued to resume from its last "
            f"checkpoint (resume {session.resumed_count + 1} of at most {attempts})",
        )
        if enqueue:
            transaction.on_commit(lambda: celery_app.send_task(RUN_TASK, args=[session.pk]))
    session.refresh_from_db()
    broadcast_status(session)
    return "resumed"


def _end(claim, session: TrainingSession, status: str, error: str, message: str) -> str | None:
    with transaction.atomic():
        if not claim.update(status=status, error=error, finished_at=timezone.now()):
            return None
        SessionLog.objects.create(
            session_id=session.pk, level="info" if status == Status.STOPPED else "error", message=message
        )
    checkpoint_drop(session.pk)
    session.refresh_from_db()
    broadcast_status(session)
    return str(status)


def _resend(session_id: int, stale: datetime) -> bool:
    """A session the sweep re-queued whose message nobody took (its sender died before sending):
    send it again. A duplicate message is harmless: the claim of a queued session is one
    conditional UPDATE, so only one message runs it."""
    with transaction.atomic():
        taken = TrainingSession.objects.filter(pk=session_id, status=Status.QUEUED, heartbeat_at__lt=stale).update(
            heartbeat_at=timezone.now()
        )
        if taken:
            transaction.on_commit(lambda: celery_app.send_task(RUN_TASK, args=[session_id]))
    return bool(taken)


def sweep_at_worker_start(sender=None, **_) -> None:
    """``worker_ready`` receiver (connected in TrainingConfig.ready): recover what died with this
    worker's previous life, and what any other worker left stale."""
    hostname = getattr(sender, "hostname", "") or ""
    try:
        training_sessions_sweep(orphaned_by=hostname, since=worker_started_at())
    except Exception:  # the worker still starts; the beat schedule sweeps again
        logger.exception("sweeping stale training sessions at worker start failed")
