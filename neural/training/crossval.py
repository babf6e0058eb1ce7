"""Cross-validation (`neural cross-validate`, POST cross-validations): start, run one fold, settle,
and train a model with the options a cross-validation measured.

Starting checks everything the folds need (the data set's rows and classes against the fold
count, the group or time column, the task) before any row is written, then stores the
cross-validation with one queued row per fold and, after commit, sends one Celery task per fold
(a ``group``, by name, to the training queue), so the folds train in parallel on as many workers as
there are. There is no chord: a chord needs a result backend, which the embedded mode has not;
instead each fold task, once its fold has ended, settles the cross-validation, and the one that
finds every fold ended writes the summary (one conditional UPDATE, so it is written once).
"""

from __future__ import annotations

import logging
import os
import socket
import threading
import uuid
from collections.abc import Callable
from contextlib import nullcontext
from datetime import timedelta

from celery import current_app, group
from django.conf import settings
from django.db import connection, transaction
from django.db.models import F, Q
from django.utils import timezone

from neural.datasets.models import Dataset
from neural.datasets.services import dataset_training_inputs, validate_name, validate_pattern
from neural.engine.callbacks import Callback, EpochState
from neural.engine.config import TrainConfig
from neural.engine.crossval import FoldPlan, fold_indices, labelled, run_fold, summarize
from neural.engine.errors import EngineError
from neural.engine.schema import TaskKind
from neural.errors import Conflict, DataError, named_in_body
from neural.registry.selectors import model_version_resolve
from neural.training.models import CrossValidation, CrossValidationFold, TrainingSession
from neural.training.progress import HEARTBEAT_S
from neural.training.services import training_config_build, training_session_create
from neural.training.sweep import stale_after_s

logger = logging.getLogger(__name__)
FOLD_TASK = "neural.training.tasks.cross_validation_fold_task"
Fold = CrossValidationFold


@transaction.atomic
def cross_validation_start(
    *,
    user,
    dataset: Dataset | None,
    model_name: str | None = None,
    pattern: str | None = None,
    folds: int = 5,
    stratified: bool = False,
    group_column: str | None = None,
    time_column: str | None = None,
    options: dict | None = None,
    from_request: bool = False,
    enqueue: bool = True,
) -> CrossValidation:
    """Check and store a cross-validation and, once committed, queue one task per fold.

    Args:
        user: who asked (None from the CLI).
        dataset: the rows to divide into folds; None with ``model_name`` alone means that model's
            data set.
        model_name: with ``pattern``, the model a training with these options would add to
            (default: the pattern). Without ``pattern``, an existing model (``name`` or
            ``name:vN``) whose version's options are the base that ``options`` override.
        pattern: the pattern of the model being chosen; its defaults are the base options.
        folds, stratified, group_column, time_column: how rows are divided (see
            ``engine/crossval.py: fold_indices``).
        options: training options (TrainConfig fields); ``seed`` also seeds the folds.
        from_request: the options come from an API request (see ``training_config_build``).
        enqueue: False to run the folds yourself (``cross_validation_run_here``).

    Raises:
        DataError: naming the field at fault (``folds``, ``stratified``, ``group_column``,
            ``time_column``, ``model``, ``pattern``, ``training_data``, an option); nothing is stored.
    """
    version, given = None, dict(options or {})
    options = given
    if pattern is None:
        if not model_name:
            raise DataError("give a model (its options and data set) or a pattern and a data set", field="model")
        with named_in_body("model"):
            version = model_version_resolve(ref=model_name)
        pattern, model_name = version.model.pattern, version.model.name
        dataset = dataset or version.dataset
        # The version's own options are the base; the provenance of its training is not an option.
        base = {k: v for k, v in version.config.items() if k != "cross_validation_id"}
        options = {**base, **given}
    validate_pattern(pattern)
    model_name = validate_name(model_name or pattern, field="model_name")
    if dataset is None:
        raise DataError("name the data set to cross-validate on", field="training_data")
    if version is not None and version.task != dataset.task:
        raise DataError(
            f"model {version} does {version.task}; data set {dataset}'s target is {dataset.task}", field="training_data"
        )
    # A request's own options are checked as a request's; a version's storage block came from
    # the CLI or the training file and was confined when it was trained.
    request_checks = from_request and any(k in given for k in ("model_storage", "cross_validation_id"))
    config = training_config_build(options=options, from_request=request_checks)
    plan = FoldPlan(
        folds=folds,
        stratified=bool(stratified),
        group_column=group_column or None,
        time_column=time_column or None,
        seed=config.seed,
    )
    inputs = dataset_training_inputs(dataset)
    frame = labelled(inputs["df"], inputs["target"])
    splits = fold_indices(frame, inputs["target"], inputs["task"], plan)  # refuses what the data cannot take
    cv = CrossValidation.objects.create(
        owner=user if getattr(user, "is_authenticated", False) else None,
        dataset=dataset,
        pattern=pattern,
        model_name=model_name,
        model_version=version,
        config=config.to_dict(),
        task=str(inputs["task"]),
        method=plan.method,
        folds=plan.folds,
        stratified=plan.stratified,
        group_column=plan.group_column or "",
        time_column=plan.time_column or "",
        seed=plan.seed,
        rows=len(frame),
    )
    Fold.objects.bulk_create(
        Fold(cross_validation=cv, index=i, train_rows=len(train), test_rows=len(held))
        for i, (train, held) in enumerate(splits)
    )
    if enqueue:
        # By name: tasks import services. One message per fold, so idle workers take them in parallel.
        tasks = group(current_app.signature(FOLD_TASK, args=(cv.pk, i)) for i in range(plan.folds))
        transaction.on_commit(tasks.delay)
    return cv


class FoldProgress(Callback):
    """Writes the fold's epoch count and heartbeat after each epoch (the page's progress)."""

    def __init__(self, fold_id: int, token: str) -> None:
        self.fold_id, self.token = fold_id, token

    def on_epoch_end(self, state: EpochState) -> None:
        Fold.objects.filter(pk=self.fold_id, claimed_by=self.token).update(
            epoch=state.epoch, heartbeat_at=timezone.now()
        )


class FoldBeat:
    """Refreshes a claimed fold's heartbeat every HEARTBEAT_S from a daemon thread while it runs
    (loading the data set, a long epoch), so only a dead process looks stale to the recovery."""

    def __init__(self, fold_id: int, token: str) -> None:
        self.fold_id, self.token = fold_id, token
        self._stop = threading.Event()
        self._thread = threading.Thread(target=self._run, name=f"fold-{fold_id}-beat", daemon=True)

    def __enter__(self) -> FoldBeat:
        self._thread.start()
        return self

    def __exit__(self, *_) -> None:
        self._stop.set()
        self._thread.join(timeout=2 * HEARTBEAT_S)

    def _run(self) -> None:
        try:
            while not self._stop.wait(HEARTBEAT_S):
                if not Fold.objects.filter(pk=self.fold_id, claimed_by=self.token).update(heartbeat_at=timezone.now()):
                    return
        except Exception:  # the epoch callback still beats; at worst the fold is re-run
            logger.exception("heartbeat of cross-validation fold %s failed", self.fold_id)
        finally:
            connection.close()  # this thread's own connection


def cross_validation_fold_run(
    *, cv_id: int, index: int, ran_in: str | None = None, beat_thread: bool = False
) -> CrossValidationFold:
    """Claim a queued fold (one conditional UPDATE: a redelivered message is a no-op), train it on
    the other folds' rows, score its own rows, keep its predictions; then settle the
    cross-validation. A fold's failure is recorded on the fold (and fails the cross-validation).
    ``beat_thread`` (the Celery task) keeps the fold's heartbeat fresh from a thread."""
    ran_in = ran_in or socket.gethostname()
    token = f"{ran_in}:{os.getpid()}:{uuid.uuid4().hex[:8]}"
    now = timezone.now()
    claimed = Fold.objects.filter(cross_validation_id=cv_id, index=index, status=Fold.Status.QUEUED).update(
        status=Fold.Status.RUNNING, ran_in=ran_in, claimed_by=token, heartbeat_at=now, started_at=now, epoch=0
    )
    fold = Fold.objects.select_related("cross_validation__dataset").get(cross_validation_id=cv_id, index=index)
    if not claimed:
        logger.info("fold %s of cross-validation %s is %s; nothing to do", index, cv_id, fold.status)
        return fold
    CrossValidation.objects.filter(pk=cv_id, status=CrossValidation.Status.QUEUED).update(
        status=CrossValidation.Status.RUNNING, started_at=now
    )
    with FoldBeat(fold.pk, token) if beat_thread else nullcontext():
        outcome = _train_fold(fold, token)
    Fold.objects.filter(pk=fold.pk, claimed_by=token).update(finished_at=timezone.now(), **outcome)
    cross_validation_settle(cv_id=cv_id)
    fold.refresh_from_db()
    return fold


def _train_fold(fold: CrossValidationFold, token: str) -> dict:
    """The fold's row fields once trained and scored, or failed with the reason."""
    cv = fold.cross_validation
    try:
        inputs = dataset_training_inputs(cv.dataset)
        target, task = inputs["target"], TaskKind(cv.task)
        frame = labelled(inputs["df"], target)
        train, held = fold_indices(frame, target, task, _plan(cv))[fold.index]
        result = run_fold(
            frame,
            target,
            train,
            held,
            config=TrainConfig.from_dict(cv.config),
            columns=inputs["columns"],
            task=task,
            callbacks=[FoldProgress(fold.pk, token)],
        )
    except EngineError as exc:
        return {"status": Fold.Status.FAILED, "error": exc.message}
    except Exception as exc:  # recorded on the fold with its traceback in the log
        logger.exception("fold %s of cross-validation %s failed", fold.index, cv.pk)
        return {"status": Fold.Status.FAILED, "error": f"{type(exc).__name__}: {exc}"}
    return {
        "status": Fold.Status.SUCCEEDED,
        "metrics": result.metrics,
        "predictions": result.predictions,
        "train_rows": result.train_rows,
        "test_rows": result.test_rows,
        "best_epoch": result.best_epoch,
        "seconds": result.seconds,
    }


def cross_validation_folds_recover() -> dict[str, list[int]]:
    """Folds whose process died (running, heartbeat older than TRAINING_STALE_AFTER_S): each is
    re-queued and its task sent again, at most TRAINING_RESUME_ATTEMPTS times, then failed with
    the reason (and its cross-validation settled). Each change is one conditional UPDATE on the
    row as read, so of two recoverers one acts. Beat runs it; a waiting command too."""
    stale = timezone.now() - timedelta(seconds=stale_after_s())
    outcome: dict[str, list[int]] = {"requeued": [], "failed": []}
    dead = Fold.objects.filter(status=Fold.Status.RUNNING).filter(Q(heartbeat_at__lt=stale) | Q(heartbeat_at=None))
    for fold in dead:
        claim = Fold.objects.filter(pk=fold.pk, status=Fold.Status.RUNNING, claimed_by=fold.claimed_by)
        if fold.attempts < settings.TRAINING_RESUME_ATTEMPTS:
            with transaction.atomic():
                if claim.update(status=Fold.Status.QUEUED, claimed_by="", attempts=F("attempts") + 1, epoch=0):
                    args = (fold.cross_validation_id, fold.index)
                    transaction.on_commit(current_app.signature(FOLD_TASK, args=args).delay)
                    outcome["requeued"].append(fold.pk)
            continue
        reason = f"its worker stopped answering; it was re-queued {fold.attempts} time(s) already"
        if claim.update(status=Fold.Status.FAILED, error=reason, finished_at=timezone.now()):
            outcome["failed"].append(fold.pk)
            cross_validation_settle(cv_id=fold.cross_validation_id)
    if any(outcome.values()):
        logger.warning("stale cross-validation folds: %s", outcome)
    return outcome


def _plan(cv: CrossValidation) -> FoldPlan:
    return FoldPlan(
        folds=cv.folds,
        stratified=cv.stratified,
        group_column=cv.group_column or None,
        time_column=cv.time_column or None,
        seed=cv.seed,
    )


def cross_validation_settle(*, cv_id: int) -> CrossValidation:
    """Once every fold has ended, write the summary (mean, sd, 95% interval of each figure) and
    the outcome: succeeded, or failed naming the first failed fold. Written once, by whichever
    caller's conditional UPDATE takes the still-open row."""
    cv = CrossValidation.objects.get(pk=cv_id)
    folds = list(cv.fold_rows.order_by("index"))
    if cv.is_finished or not all(f.is_finished for f in folds):
        return cv
    failed = [f for f in folds if f.status == Fold.Status.FAILED]
    done = [f.metrics for f in folds if f.status == Fold.Status.SUCCEEDED]
    still_open = [CrossValidation.Status.QUEUED, CrossValidation.Status.RUNNING]
    CrossValidation.objects.filter(pk=cv_id, status__in=still_open).update(
        status=CrossValidation.Status.FAILED if failed else CrossValidation.Status.SUCCEEDED,
        error=f"fold {failed[0].index + 1} failed: {failed[0].error}" if failed else "",
        summary=summarize(done) if done else {},
        finished_at=timezone.now(),
    )
    cv.refresh_from_db()
    return cv


def cross_validation_run_here(
    *, cv_id: int, on_fold: Callable[[CrossValidationFold], None] | None = None
) -> CrossValidation:
    """Train every queued fold in this process, one after another (the CLI when no worker is alive)."""
    folds = Fold.objects.filter(cross_validation_id=cv_id).values_list("index", flat=True)
    for index in list(folds):
        fold = cross_validation_fold_run(cv_id=cv_id, index=index, ran_in="cli")
        if on_fold is not None:
            on_fold(fold)
    return cross_validation_settle(cv_id=cv_id)


def cross_validation_session_args(*, cv: CrossValidation) -> dict:
    """What ``training_session_create`` takes to train with the options ``cv`` measured, on its
    data set, recording ``cross_validation_id`` in the session's config (and so in the version's
    model.json). Conflict (409) while ``cv`` has not succeeded."""
    if cv.status != CrossValidation.Status.SUCCEEDED:
        raise Conflict(f"{cv} has not succeeded; train from a finished cross-validation", field="cross_validation")
    return {
        "dataset": cv.dataset,
        "pattern": cv.pattern,
        "config": TrainConfig.from_dict({**cv.config, "cross_validation_id": cv.pk}),
        "model_name": cv.model_name,
    }


def cross_validation_train(
    *, user, cv: CrossValidation, model_name: str | None = None, session_name: str = "", enqueue: bool = True
) -> TrainingSession:
    """A queued training session with the options ``cv`` measured (see ``cross_validation_session_args``)."""
    args = cross_validation_session_args(cv=cv)
    if model_name:
        args["model_name"] = model_name
    return training_session_create(user=user, session_name=session_name, enqueue=enqueue, **args)
