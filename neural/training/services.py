"""Writes for training sessions: create (and enqueue), run, stop."""

from __future__ import annotations

import logging
import os
import socket
import uuid
from dataclasses import dataclass, field, replace
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
from neural.engine.training_file import TrainingFile, validate_model_storage
from neural.errors import Conflict, DataError, NotFound
from neural.registry.models import ModelVersion
from neural.registry.selectors import model_version_resolve
from neural.registry.services import model_version_register
from neural.registry.storage import storage_options, version_load
from neural.training.models import EnsembleJob, SessionLog, TrainingRun, TrainingSession, WorkerHeartbeat
from neural.training.progress import BackgroundBeat, ClaimLost, SessionProgress, broadcast_status
from neural.training.session_search import session_search_run
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
ENSEMBLE_SETTLE_TASK = "neural.training.tasks.ensemble_job_settle_task"


def training_config_build(
    *, epochs: int | None = None, options: dict | None = None, from_request: bool = False
) -> TrainConfig:
    """Merge request options and an explicit epoch count into a validated TrainConfig.

    ``from_request``: the options come from an API request, which may not name server folders.
    Folders from the CLI or the training file must lie inside MODEL_STORAGE_PATH."""
    data, ensemble = training_preset_resolve(dict(options or {}))
    if ensemble is not None:
        raise DataError(  # neural train / POST train / a training file start it (ensembles.ensemble_preset_start)
            "preset 'best' is a bagged ensemble of several trainings, which this operation cannot start; "
            "use preset 'default' here",
            field="preset",
        )
    if epochs is not None:
        data["epochs"] = epochs
    if from_request and "cross_validation_id" in data:
        raise DataError(
            "cross_validation_id is recorded by POST cross-validations/{id}/train, not set by hand",
            field="cross_validation_id",
        )
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
    run: TrainingRun | None = None,
    search: dict | None = None,
) -> TrainingSession:
    """Create a queued session and, once committed, hand it to a Celery worker.

    ``parent_version`` links a retrain (or, with ``distil_params``, a distillation into a
    smaller network; with ``fine_tune``, a transfer to ``dataset``) to the version it derives
    from. ``run`` groups it with the other sessions of one `--config` run; ``search`` asks for a
    hyperparameter search before training (see ``training_file_advanced``)."""
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
                run=run,
                search=search or {},
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
        inputs = dataset_training_inputs(session.dataset)
        config = TrainConfig.from_dict(session.config)
        if session.search and "best_params" not in session.search:
            config = session_search_run(session=session, inputs=inputs, config=config, progress=progress)
        trained = train_tabular(
            **inputs,
            config=config,
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
    _settle_ensembles(session_id)
    return session


@dataclass(frozen=True)
class AdvancedPlan:
    """What a training file's ``advanced`` section does to each session of its run."""

    search: dict = field(default_factory=dict)  # TrainingSession.search, empty when off
    transfer_from: ModelVersion | None = None  # the version every fine-tuned session starts from
    transfer_to: str = ""  # the data_sources name or data set the transfer trains on


def training_file_advanced(*, file: TrainingFile) -> AdvancedPlan:
    """THE one place where each ``advanced.*`` block of a training file takes effect (or is
    refused, naming its key and line): nothing is accepted and then ignored.

    - hyperparameter_tuning: an Optuna search (grid, random or TPE sampler; engine.tuning) of
      ``trials`` trials on the session's own data before it trains with the best options
      (session_search.py); with transfer_learning, the architecture is the source's, so only
      the training options are searched (space ``transfer``).
    - transfer_learning: ``source_domain`` is a registered model (name or name:vN; the active
      version for a bare name) whose network and inputs start every session that trains on
      ``target_domain`` (a data_sources name or a data set); see runs.py.
    - cross_validation: every session of the run gets a k-fold cross-validation of its own
      options on its own data set (``folds``, ``stratified``; training/crossval.py), queued
      beside it; the session records the cross-validation's id (runs.py: _cross_validation_for).
    - ensemble: beside every session, ``base_models`` bagged members and one ensemble version
      per method of ``methods`` (training/ensembles.py; runs.py: _ensemble_for).
    """
    advanced = file.advanced
    plan = AdvancedPlan()
    transfer = advanced.transfer_learning
    if transfer.enabled:
        try:
            source = model_version_resolve(ref=transfer.source_domain, field="source_domain")
        except NotFound as exc:
            raise file.error(
                "advanced.transfer_learning.source_domain",
                f"{exc.message}; source_domain names a registered model whose network starts the training",
            ) from exc
        plan = replace(plan, transfer_from=source, transfer_to=transfer.target_domain)
    tuning = advanced.hyperparameter_tuning
    if tuning.enabled:
        space = "transfer" if transfer.enabled else "hyper"
        plan = replace(plan, search={"method": tuning.method, "trials": tuning.trials, "space": space})
    return plan


def _settle_ensembles(session_id: int) -> None:
    """A member of an ensemble job finished: a worker checks whether the job can combine now
    (by name: the ensembles module imports this one)."""
    jobs = EnsembleJob.objects.filter(sessions=session_id, status=EnsembleJob.Status.RUNNING)
    for job_id in jobs.values_list("pk", flat=True):
        settle = current_app.signature(ENSEMBLE_SETTLE_TASK, args=(job_id,))
        transaction.on_commit(settle.delay)


def transfer_check(*, source, dataset: Dataset) -> None:
    """Refuse a transfer the source model cannot make to ``dataset`` (before any session exists):
    the same kind of task (classification or regression) and every feature column of the source."""
    if source is None:
        raise DataError("a transfer needs a source model version", field="source_model")
    if source.kind == "ensemble":
        raise DataError(
            f"{source} is an ensemble: there is no single network to fine-tune; name one of its members",
            field="source_model",
        )
    check_transfer(_source_model(source), [c["name"] for c in dataset.schema], TaskKind(dataset.task))


def _transfer_source(session: TrainingSession):
    if session.parent_version is None:  # deleted after the session was queued
        raise DataError("the source version of this transfer was deleted before training started", field="source_model")
    return _source_model(session.parent_version)


def _source_model(version):
    return version_load(version=version)


def _teacher(version):
    """The parent version's predictions, in the form ``train_tabular(teacher=...)`` expects."""

    return _source_model(version).predict_array  # a single network's or an ensemble's


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
        _settle_ensembles(session.pk)
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
