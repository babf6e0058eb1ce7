"""Hyperparameter searches (`neural hyper-optimize`): create a job, run its trials, report.

A job's trials are an Optuna study stored in the project's own database (Optuna's RDB storage,
its own tables), so any number of Celery workers can run trials of one search: each task takes
trial slots from the job row with one conditional UPDATE until the requested number is taken,
asks the study for options, trains, and tells the study the validation score. The runner that
finds every trial finished writes the best options onto the job.
"""

from __future__ import annotations

import logging
import os
import socket
import time
import warnings
from collections.abc import Callable
from contextlib import contextmanager
from dataclasses import replace
from pathlib import Path

import optuna
from celery import current_app
from django.conf import settings
from django.db import connection, transaction
from django.db.models import F
from django.utils import timezone
from optuna.trial import TrialState
from sqlalchemy.engine import URL
from sqlalchemy.pool import NullPool

from neural.datasets.services import dataset_training_inputs
from neural.engine import tuning
from neural.engine.config import TrainConfig
from neural.engine.errors import EngineError
from neural.engine.schema import TaskKind
from neural.errors import DataError
from neural.registry.models import ModelVersion
from neural.training.models import TuningJob
from neural.training.search_control import StopWhenCancelled, search_limits_check

logger = logging.getLogger(__name__)
# Optuna's warnings go through Django's LOGGING like every other library's; its own stderr handler
# wrote a line per trial over the CLI's progress bar, and the trials are in the report anyway.
optuna.logging.disable_default_handler()
optuna.logging.enable_propagation()
optuna.logging.set_verbosity(optuna.logging.WARNING)

MAX_TRIALS = 500
FINISHED = (TrialState.COMPLETE, TrialState.PRUNED, TrialState.FAIL)

RUN_TASK = "neural.training.tasks.tuning_job_run_task"


def storage_url() -> str:
    """The SQLAlchemy URL of Django's default database (whatever name it has now: the test
    database under pytest). An in-memory SQLite database (tests without PostgreSQL) cannot be
    opened by a second connection, so its studies go to a SQLite file under PHOTONDRIFT_HOME."""
    db = connection.settings_dict
    if db["ENGINE"].endswith("sqlite3"):
        name = Path(settings.PHOTONDRIFT_HOME) / "tuning.sqlite3" if connection.is_in_memory_db() else db["NAME"]
        return URL.create("sqlite", database=str(name)).render_as_string(hide_password=False)
    if db["ENGINE"].endswith("postgresql"):
        return URL.create(
            "postgresql+psycopg",
            username=db.get("USER") or None,
            password=db.get("PASSWORD") or None,
            host=db.get("HOST") or None,
            port=int(db["PORT"]) if db.get("PORT") else None,
            database=db["NAME"],
        ).render_as_string(hide_password=False)
    raise DataError(f"hyper-optimize needs PostgreSQL or SQLite, not {db['ENGINE']}", field="database")


@contextmanager
def study_storage():
    """Optuna's storage on our database, with no pooled connection outliving the block (a kept
    connection would stop the test database, or a migration, from dropping tables). A trial's
    runner beats every TUNING_HEARTBEAT_S; one silent for three beats is failed as stale."""
    beat = settings.TUNING_HEARTBEAT_S
    with _knowingly_experimental():
        storage = optuna.storages.RDBStorage(
            storage_url(), engine_kwargs={"poolclass": NullPool}, heartbeat_interval=beat, grace_period=3 * beat
        )
    try:
        yield storage
    finally:
        storage.engine.dispose()


@contextmanager
def _knowingly_experimental():
    """Heartbeats and failing stale trials are marked experimental (since Optuna 2.9); we rely on
    them knowingly, so their notice would only repeat itself on every run."""
    with warnings.catch_warnings():
        warnings.simplefilter("ignore", optuna.exceptions.ExperimentalWarning)
        yield


def objective_of(version: ModelVersion, name: str | None) -> tuple[str, str, str]:
    """(name, metric key, direction) of ``--optimize`` for the version; accuracy or R² by default."""
    task = TaskKind(version.task)
    name = name or ("accuracy" if task.is_classification else "r2")
    key, direction = tuning.objective_for(task, name)
    if key == "val_roc_auc" and len(version.classes or []) != 2:
        raise DataError("roc_auc is measured for two classes only; choose accuracy or macro_f1", field="optimize")
    return name, key, direction


@transaction.atomic
def tuning_job_create(
    *,
    user,
    version: ModelVersion,
    method: str,
    trials: int,
    objective: str | None = None,
    epochs: int | None = None,
    space: str = "hyper",
    enqueue: bool = True,
) -> TuningJob:
    """Validate and store a search over ``space`` (tuning.SPACES); with ``enqueue``, queue
    TUNING_TASKS runners once committed. A grid search runs at most the grid's size."""
    grid = tuning.grid_size(space)  # refuses an unknown space
    tuning.check_method(method)
    if not isinstance(trials, int) or not 1 <= trials <= MAX_TRIALS:
        raise DataError(f"trials must be a whole number from 1 to {MAX_TRIALS}, got {trials!r}", field="trials")
    base = TrainConfig.from_dict(version.config)
    if epochs is not None and (not isinstance(epochs, int) or epochs <= 0):
        raise DataError(f"epochs must be a whole number > 0, got {epochs!r}", field="epochs")
    name, _, direction = objective_of(version, objective)
    if method == "grid":
        trials = min(trials, grid)
    search_limits_check(user=user, trials=trials, epochs=epochs or base.epochs)
    job = TuningJob.objects.create(
        owner=user if getattr(user, "is_authenticated", False) else None,
        model_version=version,
        method=method,
        space=space,
        objective=name,
        direction=direction,
        trials=trials,
        epochs=epochs or base.epochs,
        seed=base.seed,
    )
    if enqueue:
        runners = min(trials, settings.TUNING_TASKS)
        run = current_app.signature(RUN_TASK, args=(job.pk,))  # by name: tasks import services
        transaction.on_commit(lambda: [run.delay() for _ in range(runners)])
    return job


def tuning_jobs_settle() -> int:
    """Settle every running search whose trials are all taken (see ``tuning_job_settle``): one
    whose last runner died still ends. Returns how many ended now."""
    ended = 0
    running = TuningJob.objects.filter(status=TuningJob.Status.RUNNING, trials_claimed__gte=F("trials"))
    for job_id in running.values_list("pk", flat=True):
        ended += tuning_job_settle(job_id=job_id).is_finished
    return ended


def _claim_trial(job_id: int) -> int | None:
    """The next trial slot of the job (0, 1, ...), or None when every slot is taken."""
    with transaction.atomic():
        taken = TuningJob.objects.filter(
            pk=job_id, status=TuningJob.Status.RUNNING, trials_claimed__lt=F("trials")
        ).update(trials_claimed=F("trials_claimed") + 1)
        if not taken:
            return None
        return TuningJob.objects.values_list("trials_claimed", flat=True).get(pk=job_id) - 1


def tuning_job_run(
    *, job_id: int, ran_in: str | None = None, on_trial: Callable[[dict], None] | None = None
) -> TuningJob:
    """Run trials of the job until none are left to take, then (if every trial has finished)
    record the best. Safe to run in many processes at once; each trial records ``ran_in``
    (default: this host and process)."""
    ran_in = ran_in or f"{socket.gethostname()}:{os.getpid()}"
    TuningJob.objects.filter(pk=job_id, status=TuningJob.Status.QUEUED).update(status=TuningJob.Status.RUNNING)
    job = TuningJob.objects.select_related("model_version__dataset").get(pk=job_id)
    if job.is_finished:
        return job
    version = job.model_version
    inputs = dataset_training_inputs(version.dataset)
    base = replace(TrainConfig.from_dict(version.config), epochs=job.epochs)
    _, key, _ = objective_of(version, job.objective)
    with study_storage() as storage:
        optuna.create_study(storage=storage, study_name=job.study_name, direction=job.direction, load_if_exists=True)
        while (slot := _claim_trial(job.pk)) is not None:
            # A sampler seeded by the slot: the same search draws the same options whichever
            # worker runs which trial (TPE also learns from the trials finished so far).
            study = optuna.load_study(
                study_name=job.study_name,
                storage=storage,
                sampler=tuning.make_sampler(job.method, job.seed + slot, job.space),
                pruner=tuning.make_pruner(),
            )
            cancel = StopWhenCancelled(job.pk)
            outcome = _run_one(study, ran_in, **inputs, base=base, key=key, space=job.space, callbacks=[cancel])
            if on_trial is not None:
                on_trial(outcome)
        return _finish(job, storage)


def _run_one(study: optuna.Study, ran_in: str, **train) -> dict:
    """One trial through ``study.optimize`` (which also lets the grid sampler end the study):
    pruned and failed trials keep a note of why, and how long each took."""
    outcome: dict = {}

    def objective(trial: optuna.Trial) -> float:
        started = time.perf_counter()
        trial.set_user_attr("ran_in", ran_in)
        try:
            return tuning.run_trial(trial, **train)
        except optuna.TrialPruned as exc:
            trial.set_user_attr("note", str(exc))
            raise
        except EngineError as exc:
            trial.set_user_attr("note", exc.message)
            raise
        except Exception as exc:  # the trial fails and Optuna logs the traceback; the search goes on
            trial.set_user_attr("note", f"{type(exc).__name__}: {exc}")
            raise
        finally:
            trial.set_user_attr("seconds", round(time.perf_counter() - started, 3))

    def record(_study: optuna.Study, frozen: optuna.trial.FrozenTrial) -> None:
        outcome.update(number=frozen.number, state=frozen.state.name.lower(), value=frozen.value)

    study.optimize(objective, n_trials=1, catch=(Exception,), callbacks=[record])
    return outcome


def tuning_job_settle(*, job_id: int) -> TuningJob:
    """Fail the job's trials whose runner stopped beating and, once every trial has ended,
    record the outcome (what a runner does when it finds no trial left; waiting callers call it
    now and then, so a search whose worker died still ends)."""
    job = TuningJob.objects.get(pk=job_id)
    if job.is_finished or job.trials_claimed < job.trials:
        return job
    with study_storage() as storage:
        return _finish(job, storage)


def _finish(job: TuningJob, storage) -> TuningJob:
    study = optuna.load_study(study_name=job.study_name, storage=storage)
    with _knowingly_experimental():
        optuna.storages.fail_stale_trials(study)
    trials = study.get_trials(deepcopy=False)
    if sum(t.state in FINISHED for t in trials) >= job.trials:
        complete = [t for t in trials if t.state == TrialState.COMPLETE]
        running = TuningJob.objects.filter(pk=job.pk, status=TuningJob.Status.RUNNING)
        if complete:
            best = study.best_trial
            running.update(
                status=TuningJob.Status.SUCCEEDED,
                best_value=best.value,
                best_params=best.params,
                best_trial=best.number,
                finished_at=timezone.now(),
            )
        else:
            notes = sorted({_note(t) or "" for t in trials} - {""})
            running.update(
                status=TuningJob.Status.FAILED,
                error=f"no trial completed ({len(trials)} ended pruned or failed)" + (f": {notes[0]}" if notes else ""),
                finished_at=timezone.now(),
            )
    job.refresh_from_db()
    return job


def tuning_report(*, job: TuningJob) -> dict:
    """The job with every trial (state, score, options, seconds) and the best, from the study."""
    version = job.model_version
    with study_storage() as storage:
        study = _stored_study(storage, job.study_name)
        trials = study.get_trials(deepcopy=False) if study is not None else []
    rows = [
        {
            "number": t.number,
            "state": t.state.name.lower(),
            "value": t.value,
            "params": t.params,
            "parameters": t.user_attrs.get("parameters"),
            "seconds": t.user_attrs.get("seconds"),
            "ran_in": t.user_attrs.get("ran_in"),
            "note": _note(t),
        }
        for t in sorted(trials, key=lambda t: t.number)
    ]
    return {
        "job_id": job.pk,
        "model": version.model.name,
        "version": version.label,
        "method": job.method,
        "space": job.space,
        "objective": job.objective,
        "direction": job.direction,
        "status": job.status,
        "trials_requested": job.trials,
        "epochs_per_trial": job.epochs,
        "counts": {s.name.lower(): sum(t.state == s for t in trials) for s in (*FINISHED, TrialState.RUNNING)},
        "trials": rows,
        "pareto": _pareto(rows, job.direction),
        "best": None
        if job.best_trial is None
        else {"trial": job.best_trial, "value": job.best_value, "params": job.best_params},
        "baseline": search_baseline(job),
        "error": job.error or None,
    }


def _stored_study(storage, name: str) -> optuna.Study | None:
    """The study of that name, or None when no runner has created it yet (one lookup by name,
    where listing every study's summary reads the whole table)."""
    try:
        return optuna.load_study(study_name=name, storage=storage)
    except KeyError:
        return None


def _note(trial: optuna.trial.FrozenTrial) -> str | None:
    """Why a trial did not complete: every failure path writes a note, except a runner that
    stopped beating (its trial was failed as stale)."""
    note = trial.user_attrs.get("note")
    return note or ("its runner stopped answering" if trial.state == TrialState.FAIL else None)


def search_baseline(job: TuningJob) -> float | None:
    """The version the search started from, scored by the search's objective on the same
    validation rows."""
    version = job.model_version
    return version.metrics.get(objective_of(version, job.objective)[1])


def _pareto(rows: list[dict], direction: str) -> list[int]:
    """The completed trials no other beats on both score and size (fewer parameters), smallest
    first: the accuracy each network size buys."""
    sign = 1 if direction == "maximize" else -1
    done = sorted(
        (r for r in rows if r["state"] == "complete" and r["parameters"] is not None),
        key=lambda r: (r["parameters"], -sign * r["value"]),
    )
    front, best = [], None
    for row in done:
        if best is None or sign * row["value"] > sign * best:
            front.append(row["number"])
            best = row["value"]
    return front


def best_config(job: TuningJob) -> TrainConfig:
    """The version's config with the job's best options (and the version's own epochs)."""
    if job.status != TuningJob.Status.SUCCEEDED:
        raise DataError(f"{job} has no best options", field="job")
    return tuning.config_from_params(job.best_params, TrainConfig.from_dict(job.model_version.config))


def study_drop_on_commit(name: str) -> None:
    """Delete the Optuna study of that name once the current transaction commits (a deleted
    search's trials), if a runner ever created it."""

    def drop() -> None:
        with study_storage() as storage:
            if _stored_study(storage, name) is not None:
                optuna.delete_study(study_name=name, storage=storage)

    transaction.on_commit(drop)


def tuning_importance(*, job: TuningJob) -> tuple[dict[str, float], str]:
    """How much each option explains the score over the completed trials (Optuna's fANOVA
    evaluator, seeded), largest first; or ``({}, why not)`` while it cannot be told yet."""
    with study_storage() as storage:
        study = _stored_study(storage, job.study_name)
        done = [t for t in (study.get_trials(deepcopy=False) if study else []) if t.state == TrialState.COMPLETE]
        if len(done) < 2:
            return {}, "needs two completed trials"
        if not any(len({repr(t.params.get(k)) for t in done}) > 1 for k in done[0].params):
            return {}, "no option took two values yet"
        try:
            scores = optuna.importance.get_param_importances(
                study, evaluator=optuna.importance.FanovaImportanceEvaluator(seed=0)
            )
        except (ValueError, RuntimeError) as exc:  # e.g. options that differ from trial to trial
            return {}, f"cannot be computed: {exc}"
    return dict(scores), ""
