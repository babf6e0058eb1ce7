"""Writes for training sessions: create (and enqueue), run, stop."""

from __future__ import annotations

import logging
import os
import socket
import uuid
from datetime import timedelta

from celery import current_app
from django.conf import settings
from django.db import IntegrityError, transaction
from django.db.models import F, Value
from django.db.models.functions import Coalesce
from django.utils import timezone

from neural.datasets.models import Dataset
from neural.datasets.services import dataset_training_inputs, validate_name, validate_pattern
from neural.engine.config import TrainConfig
from neural.engine.errors import EngineError, NonFiniteLoss, StopTraining
from neural.engine.pipeline import MIN_ROWS, check_transfer, train_tabular
from neural.engine.presets import resolve_preset
from neural.engine.schema import TaskKind
from neural.engine.training_file import validate_model_storage
from neural.errors import Conflict, DataError
from neural.registry.services import model_version_register
from neural.registry.storage import storage_options, version_load
from neural.training.models import SessionLog, TrainingSession, WorkerHeartbeat
from neural.training.progress import BackgroundBeat, ClaimLost, SessionProgress, broadcast_status
from neural.training.sweep import (
    RUN_TASK,
    checkpoint_dir,
    checkpoint_drop,
    has_checkpoint,
    is_stale,
    stale_after_s,
    training_session_recover,
)

logger = logging.getLogger(__name__)


def training_config_build(
    *, epochs: int | None = None, options: dict | None = None, from_request: bool = False
) -> TrainConfig:
    """Merge request options and an explicit epoch count into a validated TrainConfig.

    ``from_request``: the options come from an API request, which may not name server folders.
    Folders from the CLI or the training file must lie inside MODEL_STORAGE_PATH."""
    data, ensemble = training_preset_resolve(dict(options or {}))
    if ensemble is not None:
        raise DataError(
            "preset 'best' trains a bagged ensemble of 5 members served as one version and needs ensembles "
            "(neural.training.ensembles.ensemble_train_start), which this server does not have; "
            "use preset 'default'",
            field="preset",
        )
    if epochs is not None:
        data["epochs"] = epochs
    if "model_storage" in data:
        data["model_storage"] = validate_model_storage(data["model_storage"], from_request=from_request)
        storage_options({"model_storage": data["model_storage"]})  # confined under the store, or refused
    return TrainConfig.from_dict(data)


def training_preset_resolve(options: dict) -> tuple[dict, dict | None]:
    """``options`` with its ``preset`` (if any) resolved: the preset's options under the user's,
    and for ``best`` the ensemble request (``{"base_models": 5, "method": "voting"}``) that
    ``neural.training.ensembles.ensemble_train_start`` takes."""
    options = dict(options)
    return resolve_preset(options.pop("preset", None), options)


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
    model_name = validate_name(model_name or pattern, field="model_name")
    if session_name:
        validate_name(session_name, field="session_name")
    if dataset.rows < MIN_ROWS:
        raise DataError(
            f"data set {dataset} has {dataset.rows} rows; at least {MIN_ROWS} are needed to split it "
            "into training, validation and test rows",
            field="training_data",
        )
    if fine_tune:
        transfer_check(source=parent_version, dataset=dataset)
    session_name = validate_session_name(session_name or "", model_name=model_name)
    try:
        with transaction.atomic():
            session = _session_insert(
                user=user,
                dataset=dataset,
                pattern=pattern,
                config=config,
                model_name=model_name,
                session_name=session_name,
                parent_version=parent_version,
                distil_params=distil_params,
                fine_tune=fine_tune,
            )
    except IntegrityError as exc:  # a concurrent create took the name between the check and the insert
        raise DataError(
            f"model {model_name!r} already has a session named {session_name!r} (session_name is unique per model)",
            field="session_name",
        ) from exc
    if enqueue:
        run = current_app.signature(RUN_TASK, args=(session.pk,))  # by name: tasks import services
        transaction.on_commit(run.delay)
    return session


def validate_session_name(name: str, *, model_name: str) -> str:
    """A session name is optional; when given it is unique per model, at most 200 characters, one
    line, and not a bare number (ids and names share the ``--session`` / ``train/{id}`` slot)."""
    name = name.strip()
    if not name:
        return ""
    if len(name) > 200 or any(ord(c) < 32 for c in name):
        raise DataError("a session name is one line of at most 200 characters", field="session_name")
    if "/" in name or "\\" in name:
        raise DataError(
            "a session name cannot contain / or \\ (it is part of the train/{name} URL)", field="session_name"
        )
    if name.isdigit():
        raise DataError("a session name cannot be only digits (that is how ids are written)", field="session_name")
    if TrainingSession.objects.filter(model_name=model_name, name=name).exists():
        raise DataError(
            f"model {model_name!r} already has a session named {name!r} (session_name is unique per model)",
            field="session_name",
        )
    return name


def _session_insert(*, user, dataset, config: TrainConfig, session_name: str, **fields) -> TrainingSession:
    return TrainingSession.objects.create(
        name=session_name,
        owner=user if getattr(user, "is_authenticated", False) else None,
        dataset=dataset,
        config=config.to_dict(),
        epochs=config.epochs,
        **fields,
    )


class SessionBusy(Exception):
    """Another live process holds the session; the caller retries after ``retry_in_s``."""

    def __init__(self, session_id: int, retry_in_s: float) -> None:
        super().__init__(f"session {session_id} is running elsewhere; retry in {retry_in_s:.0f}s")
        self.retry_in_s = retry_in_s


def training_session_claim(*, session_id: int, token: str) -> tuple[TrainingSession, bool]:
    """Take a queued session; a running one whose process stopped beating is first recovered by
    the sweep's rule (re-queued to resume from its checkpoint, or failed, or stopped).

    Each claim is one conditional UPDATE, so of two workers racing for a session exactly one
    wins. Returns (session, resumed); raises SessionBusy while a live process holds it.
    """
    Status = TrainingSession.Status
    related = TrainingSession.objects.select_related("dataset", "parent_version")
    if _take_queued(session_id, token):
        session = related.get(pk=session_id)
        return session, session.resumed_count > 0
    session = related.get(pk=session_id)
    if session.status != Status.RUNNING:
        return session, False
    now = timezone.now()
    if not is_stale(session, now):
        raise SessionBusy(session_id, stale_after_s() - (now - session.heartbeat_at).total_seconds() + 1)
    training_session_recover(session=session, enqueue=False)
    if _take_queued(session_id, token):
        return related.get(pk=session_id), True
    session.refresh_from_db()
    if session.status == Status.RUNNING:  # another process recovered and took it first
        raise SessionBusy(session_id, 1)
    return session, False


def _take_queued(session_id: int, token: str) -> bool:
    """Queued -> running for ``token``; a resumed run keeps its first start time."""
    now = timezone.now()
    return bool(
        TrainingSession.objects.filter(pk=session_id, status=TrainingSession.Status.QUEUED).update(
            status=TrainingSession.Status.RUNNING,
            claimed_by=token,
            heartbeat_at=now,
            started_at=Coalesce(F("started_at"), Value(now)),
        )
    )


def training_session_run(*, session_id: int, ran_in: str | None = None, beat_thread: bool = False) -> TrainingSession:
    """Claim a session, train it (resuming from its checkpoint when its last process died),
    register the model version. A session that is finished, or queued for nobody, is left as it
    is; one held by a live process raises SessionBusy. ``beat_thread`` (the Celery task) keeps the
    heartbeat fresh from a thread, also while no epoch runs (loading a large data set, registering)."""
    ran_in = ran_in or socket.gethostname()
    token = f"{ran_in}:{os.getpid()}:{uuid.uuid4().hex[:8]}"
    session, resumed = training_session_claim(session_id=session_id, token=token)
    if session.claimed_by != token:
        logger.info("session %s is %s; nothing to do", session_id, session.status)
        return session
    TrainingSession.objects.filter(pk=session_id).update(ran_in=ran_in)
    broadcast_status(session)
    progress = SessionProgress(session, token=token)
    checkpoints = checkpoint_dir(session.pk)
    if resumed:
        progress.on_log(
            "warning",
            f"the previous worker stopped answering; resuming in {ran_in}"
            + (" from its last checkpoint" if has_checkpoint(session.pk) else " from the start (no checkpoint)"),
        )
    status, error, version = TrainingSession.Status.FAILED, "", None
    beat = BackgroundBeat(session_id, token).start() if beat_thread else None
    try:
        trained = train_tabular(
            **dataset_training_inputs(session.dataset),
            config=TrainConfig.from_dict(session.config),
            callbacks=[progress],
            checkpoint_dir=checkpoints,
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
    finally:
        if beat is not None:
            beat.stop()
    checkpoint_drop(session_id)
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
    """Ask a running session to stop (its worker stops before its next batch). A queued one
    stops now, and so does a running one whose worker stopped answering (nothing would ever
    read the flag); the returned session says which (``is_finished``)."""
    if session.is_finished:
        raise Conflict(f"session {session.pk} is already {session.status}", field="status")
    TrainingSession.objects.filter(pk=session.pk).update(stop_requested=True)
    stopped_now = TrainingSession.objects.filter(pk=session.pk, status=TrainingSession.Status.QUEUED).update(
        status=TrainingSession.Status.STOPPED, finished_at=timezone.now()
    )
    session.refresh_from_db()
    if stopped_now:
        checkpoint_drop(session.pk)  # a session re-queued to resume has one
        SessionLog.objects.create(session=session, message="stopped before it started")
        broadcast_status(session)
    elif session.status == TrainingSession.Status.RUNNING and is_stale(session):
        training_session_recover(session=session)  # stop_requested: marks it stopped
        session.refresh_from_db()
    return session


def worker_alive(*, within_s: int | None = None) -> bool:
    within = timedelta(seconds=within_s or 3 * settings.WORKER_HEARTBEAT_S)
    return WorkerHeartbeat.objects.filter(last_seen__gte=timezone.now() - within).exists()


def training_session_annotate(
    *, session: TrainingSession, tags: list[str] | None = None, notes: str | None = None
) -> TrainingSession:
    """Set an operator's tags (deduplicated, order kept) and notes on a session; None leaves one as is."""
    fields = []
    if tags is not None:
        session.tags = list(dict.fromkeys(tags))
        fields.append("tags")
    if notes is not None:
        session.notes = notes
        fields.append("notes")
    if fields:
        TrainingSession.objects.filter(pk=session.pk).update(**{f: getattr(session, f) for f in fields})
    return session
