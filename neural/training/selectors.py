"""Reads for training sessions."""

from __future__ import annotations

from django.db.models import Count, Prefetch

from neural.api.converters import MAX_ID
from neural.errors import DataError, NotFound
from neural.training.models import EpochMetric, TrainingRun, TrainingSession, TuningJob


def session_get(*, session_id: int) -> TrainingSession:
    session = TrainingSession.objects.select_related("dataset", "model_version").filter(pk=session_id).first()
    if session is None:
        raise NotFound(f"training session {session_id} does not exist", field="session")
    return session


def session_resolve(*, ref: str | int) -> TrainingSession:
    """A session named by its id or by its name. Names are unique per model; a name two models'
    sessions share is refused with both model names, so the caller can give the id instead."""
    text = str(ref).strip()
    if text.isascii() and text.isdigit():
        if int(text) > MAX_ID:  # past bigint: no such row (a query would fail)
            raise NotFound(f"no training session has the id {text}", field="session")
        return session_get(session_id=int(text))
    found = list(TrainingSession.objects.select_related("dataset", "model_version").filter(name=text)[:5])
    if not found:
        raise NotFound(f"no training session has the id or name {text!r}", field="session")
    if len(found) > 1:
        models = ", ".join(sorted({s.model_name for s in found}))
        raise DataError(f"sessions of several models are named {text!r} ({models}); give the id", field="session")
    return found[0]


def session_name_free(*, model_name: str, base: str) -> str:
    """``base``, or ``base-2``, ``-3``...: the first name no session of ``model_name`` has yet
    (for names the commands make up, such as "retrain of m:v1")."""
    taken = set(
        TrainingSession.objects.filter(model_name=model_name, name__startswith=base).values_list("name", flat=True)
    )
    if base not in taken:
        return base
    return next(f"{base}-{n}" for n in range(2, len(taken) + 3) if f"{base}-{n}" not in taken)


def session_list(*, status: str | None = None, model_name: str | None = None):
    qs = TrainingSession.objects.select_related("dataset", "model_version")
    if status:
        qs = qs.filter(status=status)
    if model_name:
        qs = qs.filter(model_name=model_name)
    return qs


def epoch_rows_after(*, session: TrainingSession, after: int, limit: int) -> list[EpochMetric]:
    """The epochs after ``after``, oldest first, at most ``limit`` (a reconnecting page's catch-up)."""
    return list(session.epoch_metrics.filter(epoch__gt=after).order_by("epoch")[:limit])


def epoch_page(*, session: TrainingSession, page: int, per_page: int) -> tuple[list[EpochMetric], int]:
    """One page of epochs, newest first, and the number of pages (from the session's epoch count)."""
    pages = max(1, -(-session.epoch // per_page))
    page = min(max(page, 1), pages)
    top = session.epoch - (page - 1) * per_page
    rows = session.epoch_metrics.filter(epoch__lte=top, epoch__gt=top - per_page).order_by("-epoch")
    return list(rows), pages


def best_epoch(*, session: TrainingSession) -> EpochMetric | None:
    """The last epoch that improved the validation loss: the weights a finished run keeps."""
    return session.epoch_metrics.filter(is_best=True).order_by("-epoch").first()


def latest_epoch(*, session: TrainingSession) -> EpochMetric | None:
    return session.epoch_metrics.order_by("-epoch").first()


def tuning_job_list():
    """Searches (hyper-optimize, architecture-search), newest first, with their base version."""
    return TuningJob.objects.select_related("model_version__model")


def tuning_job_get(*, job_id: int) -> TuningJob:
    job = tuning_job_list().filter(pk=job_id).first()
    if job is None:
        raise NotFound(f"tuning job {job_id} does not exist", field="job")
    return job


def sessions_get(*, session_ids: list[int]) -> list[TrainingSession]:
    """The sessions with these ids that exist, in the order asked."""
    found = {
        s.pk: s for s in TrainingSession.objects.select_related("dataset", "model_version").filter(pk__in=session_ids)
    }
    return [found[i] for i in session_ids if i in found]


def run_list():
    """`--config` runs, newest first, each with its session count."""
    return TrainingRun.objects.annotate(session_count=Count("sessions")).order_by("-created_at", "-id")


def run_get(*, run_id: int) -> TrainingRun:
    """A run with its sessions (their data sets and versions), oldest session first."""
    sessions = TrainingSession.objects.select_related("dataset", "model_version").order_by("pk")
    run = (
        TrainingRun.objects.annotate(session_count=Count("sessions"))
        .prefetch_related(Prefetch("sessions", queryset=sessions))
        .filter(pk=run_id)
        .first()
    )
    if run is None:
        raise NotFound(f"training run {run_id} does not exist", field="run")
    return run
