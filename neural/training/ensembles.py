"""Training an ensemble (``advanced.ensemble {enabled, methods, base_models: K}``): K member
sessions on one data set, each with its own ``bagging_seed`` (its own initialisation and batch
order, and with ``bagging: bootstrap`` a bootstrap sample of the training rows; the split into
training, validation and test rows is the same for all), queued as ordinary training sessions
so Celery workers run them in parallel. When the last one finishes (``training_session_run``
enqueues the settle task by name for a session that belongs to a job), ``ensemble_job_settle``
creates the ensemble version
(``registry/ensembles.py: ensemble_create``), fitting weights or a meta-model on the members'
shared validation rows. Members are versions of ``<name>-members``; the ensemble is the next
version of ``<name>``.
"""

from __future__ import annotations

import logging

from django.db import transaction
from django.utils import timezone

from neural.datasets.models import Dataset
from neural.engine.ensemble import METHODS, MIN_MEMBERS
from neural.engine.errors import EngineError
from neural.errors import DataError
from neural.registry.ensembles import ensemble_create
from neural.registry.storage import remove_versions
from neural.training.models import EnsembleJob, TrainingRun, TrainingSession
from neural.training.services import training_config_build, training_preset_resolve, training_session_create

logger = logging.getLogger(__name__)
MAX_BASE_MODELS = 32


@transaction.atomic
def ensemble_train_start(
    *,
    user,
    dataset: Dataset,
    options: dict,
    base_models: int,
    method: str = "voting",
    methods: list[str] | None = None,
    run: TrainingRun | None = None,
    enqueue: bool = True,
) -> EnsembleJob:
    """Queue ``base_models`` bagged member sessions and the job that combines them.

    Args:
        options: training options (as ``training_config_build`` takes them), plus an optional
            ``model_name`` (default: the data set's pattern).
        method: voting, weighted (weights fitted on validation rows) or stacking.
        methods: several of those (``advanced.ensemble.methods``): one ensemble version each,
            in this order, over the same members (``method`` is then ignored).
        run: the `--config` run the member sessions belong to (``advanced.ensemble``).
        enqueue: False when the caller trains the members itself (then calls ``ensemble_job_settle``).

    Raises:
        DataError: naming ``base_models``, ``method(s)`` or the training option at fault; nothing is stored.
    """
    wanted = list(methods) if methods is not None else [method]
    field = "methods" if methods is not None else "method"
    if not wanted or any(m not in METHODS for m in wanted) or len(set(wanted)) != len(wanted):
        raise DataError(f"{field} must be distinct values among {', '.join(METHODS)}", field=field)
    if (
        not isinstance(base_models, int)
        or isinstance(base_models, bool)
        or not (MIN_MEMBERS <= base_models <= MAX_BASE_MODELS)
    ):
        raise DataError(
            f"base_models must be a whole number from {MIN_MEMBERS} to {MAX_BASE_MODELS}", field="base_models"
        )
    options = dict(options or {})
    name = options.pop("model_name", None) or dataset.pattern
    if "bagging_seed" in options:
        raise DataError("bagging_seed is set per member by the ensemble", field="bagging_seed")
    seed = options.get("seed", 42)
    configs = [training_config_build(options={**options, "bagging_seed": 1000 * seed + k}) for k in range(base_models)]
    sessions = [
        training_session_create(
            user=user,
            dataset=dataset,
            pattern=dataset.pattern,
            config=config,
            model_name=f"{name}-members",
            run=run,
            enqueue=enqueue,
        )
        for config in configs
    ]
    job = EnsembleJob.objects.create(
        owner=user if getattr(user, "is_authenticated", False) else None,
        dataset=dataset,
        model_name=name,
        method=",".join(wanted),
        base_models=base_models,
    )
    job.sessions.set(sessions)
    return job


def ensemble_preset_start(
    *,
    user,
    dataset: Dataset,
    options: dict,
    epochs: int | None = None,
    model_name: str | None = None,
    enqueue: bool = True,
    run: TrainingRun | None = None,
) -> EnsembleJob | None:
    """``preset: best`` (engine/presets.py): the ``default`` preset's options trained as a bagged
    ensemble (its members and method from the preset) served as one version of ``model_name``.
    None when ``options`` does not ask for it (the caller trains one session as usual)."""
    resolved, request = training_preset_resolve(options)
    if request is None:
        return None
    if epochs is not None:
        resolved["epochs"] = epochs
    resolved["model_name"] = model_name or dataset.pattern
    return ensemble_train_start(
        user=user,
        dataset=dataset,
        options=resolved,
        base_models=request["base_models"],
        method=request["method"],
        run=run,
        enqueue=enqueue,
    )


def ensemble_job_settle(*, job_id: int) -> EnsembleJob:
    """Create the ensemble (one version per method; ``model_version`` is the first) once every
    member session has finished; a job whose member failed or stopped fails, naming it.
    Idempotent: only one caller claims the job (conditional UPDATE)."""
    job = EnsembleJob.objects.get(pk=job_id)
    sessions = list(job.sessions.select_related("model_version__model").order_by("pk"))
    if job.status != EnsembleJob.Status.RUNNING or not all(s.is_finished for s in sessions):
        return job
    if not EnsembleJob.objects.filter(pk=job_id, status=EnsembleJob.Status.RUNNING).update(
        status=EnsembleJob.Status.SETTLING
    ):
        return EnsembleJob.objects.get(pk=job_id)
    bad = [s for s in sessions if s.status != TrainingSession.Status.SUCCEEDED or s.model_version is None]
    status, error, version = EnsembleJob.Status.FAILED, "", None
    if bad:
        error = "member session(s) " + ", ".join(f"{s.pk} ({s.status})" for s in bad) + " did not succeed"
    else:
        created: list = []
        try:
            with transaction.atomic():  # every method's version, or none
                for method in job.method.split(","):
                    created.append(
                        ensemble_create(
                            user=job.owner,
                            name=job.model_name,
                            members=[s.model_version for s in sessions],
                            method=method,
                            weights="auto",
                        )
                    )
            version, status = created[0], EnsembleJob.Status.SUCCEEDED
        except Exception as exc:  # recorded on the job (and logged with its traceback below)
            remove_versions([v.artifact_path for v in created])  # rolled back: their folders go too
            error = exc.message if isinstance(exc, EngineError) else f"{type(exc).__name__}: {exc}"
            if not isinstance(exc, EngineError):
                logger.exception("ensemble job %s failed", job_id)
    EnsembleJob.objects.filter(pk=job_id).update(
        status=status, error=error, model_version=version, finished_at=timezone.now()
    )
    if error:
        logger.warning("ensemble job %s failed: %s", job_id, error)
    return EnsembleJob.objects.get(pk=job_id)
