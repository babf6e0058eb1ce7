"""Writes for training sessions: create (and enqueue), run, stop."""

from __future__ import annotations

import logging
import shutil
import socket
from datetime import timedelta
from pathlib import Path

from django.conf import settings
from django.db import transaction
from django.utils import timezone

from neural.datasets.models import Dataset
from neural.datasets.services import dataset_load_frame, validate_name, validate_pattern
from neural.engine.config import TrainConfig
from neural.engine.errors import EngineError, NonFiniteLoss, StopTraining
from neural.engine.pipeline import train_tabular
from neural.engine.schema import ColumnSpec, TaskKind
from neural.errors import Conflict
from neural.registry.services import model_version_register
from neural.training.models import SessionLog, TrainingSession, WorkerHeartbeat
from neural.training.progress import SessionProgress, broadcast_status

logger = logging.getLogger(__name__)


def training_config_build(*, epochs: int | None = None, options: dict | None = None) -> TrainConfig:
    """Merge request options and an explicit epoch count into a validated TrainConfig."""
    data = dict(options or {})
    if epochs is not None:
        data["epochs"] = epochs
    return TrainConfig.from_dict(data)


@transaction.atomic
def training_session_create(
    *,
    user,
    dataset: Dataset,
    pattern: str,
    config: TrainConfig,
    model_name: str | None = None,
    session_name: str = "",
    enqueue: bool = True,
) -> TrainingSession:
    """Create a queued session and, once committed, hand it to a Celery worker."""
    validate_pattern(pattern)
    model_name = validate_name(model_name or pattern)
    session = TrainingSession.objects.create(
        name=session_name or "",
        owner=user if getattr(user, "is_authenticated", False) else None,
        dataset=dataset,
        pattern=pattern,
        model_name=model_name,
        config=config.to_dict(),
        epochs=config.epochs,
    )
    if enqueue:
        from neural.training.tasks import training_session_run_task

        transaction.on_commit(lambda: training_session_run_task.delay(session.pk))
    return session


def training_session_run(*, session_id: int, ran_in: str | None = None) -> TrainingSession:
    """Claim a queued session, train it, register the model version. Idempotent: a session that
    is not queued (already claimed, or stopped before it started) is left as it is."""
    ran_in = ran_in or socket.gethostname()
    claimed = TrainingSession.objects.filter(pk=session_id, status=TrainingSession.Status.QUEUED).update(
        status=TrainingSession.Status.RUNNING, started_at=timezone.now(), ran_in=ran_in
    )
    session = TrainingSession.objects.select_related("dataset").get(pk=session_id)
    if not claimed:
        logger.info("session %s is %s, not queued; nothing to do", session_id, session.status)
        return session
    broadcast_status(session)
    progress = SessionProgress(session)
    checkpoint_dir = Path(settings.PHOTONDRIFT_HOME) / "checkpoints" / str(session.pk)
    status, error, version = TrainingSession.Status.FAILED, "", None
    try:
        df = dataset_load_frame(session.dataset)
        columns = [ColumnSpec.from_dict(c) for c in session.dataset.schema]
        trained = train_tabular(
            df,
            session.dataset.target,
            config=TrainConfig.from_dict(session.config),
            columns=columns,
            task=TaskKind(session.dataset.task),
            callbacks=[progress],
            checkpoint_dir=checkpoint_dir,
        )
        version = model_version_register(session=session, trained=trained)
        status = TrainingSession.Status.SUCCEEDED
    except StopTraining:
        status = TrainingSession.Status.STOPPED
        progress.on_log("info", "stopped on request")
    except NonFiniteLoss as exc:
        error = exc.message
        progress.on_log("error", f"{error}; the run was stopped")
    except EngineError as exc:
        error = exc.message
        progress.on_log("error", error)
    except Exception as exc:  # recorded on the session and logged with its traceback
        logger.exception("training session %s failed", session_id)
        error = f"{type(exc).__name__}: {exc}"
        progress.on_log("error", error)
    finally:
        shutil.rmtree(checkpoint_dir, ignore_errors=True)
    TrainingSession.objects.filter(pk=session_id).update(
        status=status,
        error=error,
        finished_at=timezone.now(),
        model_version=version,
        metrics=_final_metrics(version),
    )
    session.refresh_from_db()
    broadcast_status(session)
    return session


def _final_metrics(version) -> dict:
    if version is None:
        return {}
    return {**version.metrics, **{f"test_{k}": v for k, v in version.test_metrics.items()}}


def training_session_stop(*, session: TrainingSession) -> TrainingSession:
    """Ask a running session to stop (the worker stops before its next batch); a queued one stops now."""
    if session.is_finished:
        raise Conflict(f"session {session.pk} is already {session.status}", field="status")
    TrainingSession.objects.filter(pk=session.pk).update(stop_requested=True)
    stopped_now = TrainingSession.objects.filter(pk=session.pk, status=TrainingSession.Status.QUEUED).update(
        status=TrainingSession.Status.STOPPED, finished_at=timezone.now()
    )
    session.refresh_from_db()
    if stopped_now:
        SessionLog.objects.create(session=session, message="stopped before it started")
        broadcast_status(session)
    return session


def worker_heartbeat(*, hostname: str) -> None:
    WorkerHeartbeat.objects.update_or_create(hostname=hostname, defaults={"last_seen": timezone.now()})


def worker_alive(*, within_s: int | None = None) -> bool:
    within = timedelta(seconds=within_s or 3 * settings.WORKER_HEARTBEAT_S)
    return WorkerHeartbeat.objects.filter(last_seen__gte=timezone.now() - within).exists()
