"""Limits on search work, and cancelling a search.

A search is ``trials`` trainings of up to ``epochs`` epochs, queued on the workers; without a
bound one request could queue weeks of work. SEARCH_MAX_TRIAL_EPOCHS caps trials x epochs of one
search and SEARCH_MAX_ACTIVE_PER_USER the searches one account has queued or running at once.

Cancelling is one conditional UPDATE to ``cancelled``: a runner takes trial slots only from a
running search (tuning._claim_trial), so queued trials never start, and each running trial
checks the row at the end of every epoch (``StopWhenCancelled``) and ends pruned.
"""

from __future__ import annotations

import optuna
from django.conf import settings
from django.utils import timezone

from neural.engine.callbacks import Callback, EpochState
from neural.errors import Conflict, DataError
from neural.training.models import TuningJob


class SearchLimit(Conflict):
    """Too many searches queued or running for one account (409)."""


def search_limits_check(*, user, trials: int, epochs: int) -> None:
    """Refuse a search over the work limits: a 400 naming ``trials`` (trials x epochs), or a
    SearchLimit when the account already has SEARCH_MAX_ACTIVE_PER_USER searches going."""
    cap = settings.SEARCH_MAX_TRIAL_EPOCHS
    if trials * epochs > cap:
        raise DataError(
            f"trials x epochs = {trials} x {epochs} = {trials * epochs} is over this server's limit of {cap} "
            f"(SEARCH_MAX_TRIAL_EPOCHS); ask for fewer trials or epochs",
            field="trials",
        )
    if not getattr(user, "is_authenticated", False):
        return  # the CLI, run by whoever holds the server's shell
    active = TuningJob.objects.filter(owner=user, status__in=TuningJob.ACTIVE).count()
    limit = settings.SEARCH_MAX_ACTIVE_PER_USER
    if active >= limit:
        raise SearchLimit(
            f"{user.get_username()} has {active} searches queued or running, the most allowed "
            f"(SEARCH_MAX_ACTIVE_PER_USER = {limit}); wait for one to end or cancel one",
            field="searches",
        )


def can_cancel(user, job: TuningJob) -> bool:
    """The operator who started the search, or an admin (a superuser, or staff allowed to
    delete searches)."""
    if not getattr(user, "is_authenticated", False):
        return False
    if user.is_superuser or (user.is_staff and user.has_perm("training.delete_tuningjob")):
        return True
    return job.owner_id is not None and job.owner_id == user.pk


def tuning_job_cancel(*, job: TuningJob) -> TuningJob:
    """Cancel a queued or running search; Conflict (409) when it has already ended."""
    cancelled = TuningJob.objects.filter(pk=job.pk, status__in=TuningJob.ACTIVE).update(
        status=TuningJob.Status.CANCELLED, error="cancelled on request", finished_at=timezone.now()
    )
    job.refresh_from_db()
    if not cancelled:
        raise Conflict(f"search {job.pk} is already {job.status}", field="status")
    return job


class StopWhenCancelled(Callback):
    """Ends a trial at its next epoch end (one indexed read per epoch) once its search is cancelled."""

    def __init__(self, job_id: int) -> None:
        self.job_id = job_id

    def on_epoch_end(self, state: EpochState) -> None:
        if TuningJob.objects.filter(pk=self.job_id, status=TuningJob.Status.CANCELLED).exists():
            raise optuna.TrialPruned(f"search cancelled (stopped at epoch {state.epoch})")
