"""Writes for training sessions: create (and enqueue), run, stop."""

from __future__ import annotations

import logging
import os
import shutil
import socket
import uuid
from datetime import timedelta
from pathlib import Path

from celery import current_app
from django.conf import settings
from django.db import transaction
from django.db.models import F
from django.utils import timezone

from neural.datasets.models import Dataset
from neural.datasets.services import dataset_training_inputs, validate_name, validate_pattern
from neural.engine.config import TrainConfig
from neural.engine.errors import EngineError, NonFiniteLoss, StopTraining
from neural.engine.pipeline import MIN_ROWS, check_transfer, train_tabular
from neural.engine.schema import TaskKind
from neural.engine.training_file import validate_model_storage
from neural.errors import Conflict, DataError
from neural.registry.services import model_version_register
from neural.registry.storage import version_load
from neural.training.models import SessionLog, TrainingSession, WorkerHeartbeat
from neural.training.progress import ClaimLost, SessionProgress, broadcast_status

logger = logging.getLogger(__name__)

RUN_TASK = "neural.training.tasks.training_session_run_task"


def training_config_build(*, epochs: int | None = None, options: dict | None = None) -> TrainConfig:
    """Merge request options and an explicit epoch count into a validated TrainConfig."""
    data = dict(options or {})
    if epochs is not None:
        data["epochs"] = epochs
    if "model_storage" in data:
        data["model_storage"] = validate_model_storage(data["model_storage"])
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
    parent_version=None,
    distil_params: int | None = None,
    fine_tune: bool = False,
) -> TrainingSession:
    """Create a queued session and, once committed, hand it to a Celery worker.

    ``parent_version`` links a retrain (or, with ``distil_params``, a distillation into a
    smaller network; with ``fine_tune``, a transfer to ``dataset``) to the version it derives
    from."""
    validate_pattern(pattern)
    model_name = validate_name(model_name or pattern)
    if dataset.rows < MIN_ROWS:
        raise DataError(
            f"data set {dataset} has {dataset.rows} rows; at least {MIN_ROWS} are needed to split it "
            "into training, validation and test rows",
            field="training_data",
        )
    if fine_tune:
        transfer_check(source=parent_version, dataset=dataset)
    session = TrainingSession.objects.create(
        name=session_name or "",
        owner=user if getattr(user, "is_authenticated", False) else None,
        dataset=dataset,
        pattern=pattern,
        model_name=model_name,
        config=config.to_dict(),
        epochs=config.epochs,
        parent_version=parent_version,
        distil_params=distil_params,
        fine_tune=fine_tune,
    )
    if enqueue:
        run = current_app.signature(RUN_TASK, args=(session.pk,))  # by name: tasks import services
        transaction.on_commit(run.delay)
    return session


class SessionBusy(Exception):
    """Another live process holds the session; the caller retries after ``retry_in_s``."""

    def __init__(self, session_id: int, retry_in_s: float) -> None:
        super().__init__(f"session {session_id} is running elsewhere; retry in {retry_in_s:.0f}s")
        self.retry_in_s = retry_in_s


def stale_after_s() -> float:
    """A running session whose heartbeat is older than this lost its process."""
    return float(settings.TRAINING_STALE_S)


def training_session_claim(*, session_id: int, token: str) -> tuple[TrainingSession, bool]:
    """Take a queued session, or take over a running one whose process stopped beating.

    Each claim is one conditional UPDATE, so of two workers racing for a session exactly one
    wins. Returns (session, resumed); raises SessionBusy while a live process holds it.
    """
    now = timezone.now()
    Status = TrainingSession.Status
    fresh = {"status": Status.RUNNING, "claimed_by": token, "heartbeat_at": now}
    if TrainingSession.objects.filter(pk=session_id, status=Status.QUEUED).update(started_at=now, **fresh):
        return TrainingSession.objects.select_related("dataset", "parent_version").get(pk=session_id), False
    session = TrainingSession.objects.select_related("dataset", "parent_version").get(pk=session_id)
    if session.status != Status.RUNNING:
        return session, False
    beat = session.heartbeat_at
    if beat is not None and (now - beat).total_seconds() < stale_after_s():
        raise SessionBusy(session_id, stale_after_s() - (now - beat).total_seconds() + 1)
    taken = TrainingSession.objects.filter(
        pk=session_id, status=Status.RUNNING, claimed_by=session.claimed_by, heartbeat_at=beat
    ).update(resumed_count=F("resumed_count") + 1, **fresh)
    if not taken:
        raise SessionBusy(session_id, 1)
    session.refresh_from_db()
    return session, True


def training_session_run(*, session_id: int, ran_in: str | None = None) -> TrainingSession:
    """Claim a session, train it (resuming from its checkpoint when its last process died),
    register the model version. A session that is finished, or queued for nobody, is left as it
    is; one held by a live process raises SessionBusy."""
    ran_in = ran_in or socket.gethostname()
    token = f"{ran_in}:{os.getpid()}:{uuid.uuid4().hex[:8]}"
    session, resumed = training_session_claim(session_id=session_id, token=token)
    if session.claimed_by != token:
        logger.info("session %s is %s; nothing to do", session_id, session.status)
        return session
    TrainingSession.objects.filter(pk=session_id).update(ran_in=ran_in)
    broadcast_status(session)
    progress = SessionProgress(session, token=token)
    checkpoint_dir = Path(settings.PHOTONDRIFT_HOME) / "checkpoints" / str(session.pk)
    if resumed:
        found = (checkpoint_dir / "checkpoint.json").exists()
        progress.on_log(
            "warning",
            f"the previous worker stopped answering; resuming in {ran_in}"
            + (" from its last checkpoint" if found else " from the start (no checkpoint was written)"),
        )
    status, error, version = TrainingSession.Status.FAILED, "", None
    try:
        trained = train_tabular(
            **dataset_training_inputs(session.dataset),
            config=TrainConfig.from_dict(session.config),
            callbacks=[progress],
            checkpoint_dir=checkpoint_dir,
            teacher=_teacher(session.parent_version) if session.distil_params else None,
            param_budget=session.distil_params,
            warm_start=_transfer_source(session) if session.fine_tune else None,
        )
        if trained.transfer is not None:
            trained.transfer["from"] = f"{session.parent_version.model.name}:{session.parent_version.label}"
        version = model_version_register(session=session, trained=trained, parent=session.parent_version)
        status = TrainingSession.Status.SUCCEEDED
    except ClaimLost:
        logger.warning("session %s was taken over by another process; this one stops", session_id)
        return TrainingSession.objects.get(pk=session_id)
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
    shutil.rmtree(checkpoint_dir, ignore_errors=True)
    TrainingSession.objects.filter(pk=session_id, claimed_by=token).update(
        status=status,
        error=error,
        finished_at=timezone.now(),
        model_version=version,
        metrics=_final_metrics(version),
    )
    session.refresh_from_db()
    broadcast_status(session)
    return session


def transfer_check(*, source, dataset: Dataset) -> None:
    """Refuse a transfer the source model cannot make to ``dataset`` (before any session exists):
    the same kind of task (classification or regression) and every feature column of the source."""
    if source is None:
        raise DataError("a transfer needs a source model version", field="source_model")
    check_transfer(_source_model(source), [c["name"] for c in dataset.schema], TaskKind(dataset.task))


def _transfer_source(session: TrainingSession):
    if session.parent_version is None:  # deleted after the session was queued
        raise DataError("the source version of this transfer was deleted before training started", field="source_model")
    return _source_model(session.parent_version)


def _source_model(version):
    return version_load(version=version)


def _teacher(version):
    """The parent version's predictions, in the form ``train_tabular(teacher=...)`` expects."""
    import numpy as np
    import torch

    predictor = _source_model(version)

    def predict(df):
        x_num, x_cat = predictor.preprocessor.transform(df)
        with torch.inference_mode():
            out = predictor.network(torch.from_numpy(x_num), torch.from_numpy(x_cat)).float()
        if predictor.encoder.task.is_classification:
            return torch.softmax(out, dim=1).numpy()
        return predictor.encoder.inverse_regression(out.squeeze(-1).numpy().astype(np.float64))

    return predict


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
