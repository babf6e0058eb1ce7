"""Stale sessions (their worker died): re-queued to resume, failed with the reason, or stopped."""

from __future__ import annotations

import time
from datetime import timedelta

import pytest
from django.utils import timezone

from neural.engine.config import TrainConfig
from neural.training.models import TrainingSession
from neural.training.services import training_session_create, training_session_run, training_session_stop
from neural.training.sweep import checkpoint_dir, training_session_recover, training_sessions_sweep
from tests.training.test_services import _die_after


@pytest.fixture
def session(dataset, user):
    return training_session_create(
        user=user,
        dataset=dataset,
        pattern="coordination",
        config=TrainConfig(epochs=4, early_stopping=False),
        enqueue=False,
    )


def _running(session, *, beat_ago_s: float, claimed_by: str = "dead@host:1:ab", checkpoint: bool = True) -> None:
    TrainingSession.objects.filter(pk=session.pk).update(
        status="running", claimed_by=claimed_by, heartbeat_at=timezone.now() - timedelta(seconds=beat_ago_s), epoch=2
    )
    if checkpoint:
        checkpoint_dir(session.pk).mkdir(parents=True)
        (checkpoint_dir(session.pk) / "checkpoint.json").write_text("{}")
    session.refresh_from_db()


def test_it_requeues_a_stale_session_once_and_sends_its_message(session, django_capture_on_commit_callbacks):
    _running(session, beat_ago_s=600)
    with django_capture_on_commit_callbacks() as sent:
        outcome = training_sessions_sweep()
        again = training_sessions_sweep()  # a second sweeper finds nothing left to do
    assert outcome["resumed"] == [session.pk] and not any(again.values())
    assert len(sent) == 1
    session.refresh_from_db()
    assert session.status == "queued" and session.resumed_count == 1 and session.claimed_by == ""
    assert "queued to resume from its last checkpoint (resume 1 of at most 3)" in session.log_lines.last().message


def test_it_leaves_a_session_whose_worker_still_beats_alone(session):
    _running(session, beat_ago_s=1)
    assert not any(training_sessions_sweep().values())
    session.refresh_from_db()
    assert session.status == "running" and session.resumed_count == 0


def test_a_starting_worker_recovers_what_its_previous_life_held_at_once(session):
    _running(session, beat_ago_s=1, claimed_by="embedded@host:4242:ab")
    assert training_sessions_sweep(orphaned_by="embedded@other", since=timezone.now())["resumed"] == []
    outcome = training_sessions_sweep(orphaned_by="embedded@host", since=timezone.now())
    assert outcome["resumed"] == [session.pk]


def test_of_two_sweepers_holding_the_same_read_only_one_acts(session):
    _running(session, beat_ago_s=600)
    first, second = TrainingSession.objects.get(pk=session.pk), TrainingSession.objects.get(pk=session.pk)
    assert training_session_recover(session=first, enqueue=False) == "resumed"
    assert training_session_recover(session=second, enqueue=False) is None
    assert TrainingSession.objects.get(pk=session.pk).resumed_count == 1


def test_it_fails_a_stale_session_with_the_reason_when_its_attempts_are_spent(session, settings):
    settings.TRAINING_RESUME_ATTEMPTS = 2
    _running(session, beat_ago_s=600)
    TrainingSession.objects.filter(pk=session.pk).update(resumed_count=2)
    assert training_sessions_sweep()["failed"] == [session.pk]
    session.refresh_from_db()
    assert session.status == "failed" and "resumed 2 time(s) already" in session.error
    assert session.finished_at is not None
    assert not checkpoint_dir(session.pk).exists()


def test_it_fails_a_stale_session_that_never_wrote_a_checkpoint(session):
    _running(session, beat_ago_s=600, checkpoint=False)
    assert training_sessions_sweep()["failed"] == [session.pk]
    session.refresh_from_db()
    assert session.status == "failed" and "before the first epoch's checkpoint" in session.error


def test_stop_on_a_stale_session_stops_it_now_and_removes_its_checkpoints(session):
    _running(session, beat_ago_s=600)
    stopped = training_session_stop(session=session)
    assert stopped.status == "stopped" and stopped.is_finished and stopped.finished_at is not None
    assert not checkpoint_dir(session.pk).exists()


def test_stop_on_a_live_session_only_asks(session):
    _running(session, beat_ago_s=1)
    asked = training_session_stop(session=session)
    assert asked.status == "running" and asked.stop_requested
    assert checkpoint_dir(session.pk).exists()


def test_a_requeued_session_whose_message_was_lost_is_sent_again(session, django_capture_on_commit_callbacks):
    TrainingSession.objects.filter(pk=session.pk).update(heartbeat_at=timezone.now() - timedelta(hours=1))
    with django_capture_on_commit_callbacks() as sent:
        assert training_sessions_sweep()["resent"] == [session.pk]
    assert len(sent) == 1
    fresh = training_session_create(
        user=None, dataset=session.dataset, pattern="coordination", config=TrainConfig(epochs=1), enqueue=False
    )
    assert fresh.pk not in training_sessions_sweep()["resent"]  # never re-queued: its first message stands


def test_a_swept_session_resumes_from_its_checkpoint_and_succeeds(session):
    _die_after(session, 2)
    assert training_sessions_sweep()["resumed"] == [session.pk]
    done = training_session_run(session_id=session.pk, ran_in="worker-2")
    assert done.status == "succeeded", done.error
    assert done.resumed_count == 1 and done.epoch == 4
    assert not checkpoint_dir(session.pk).exists()
    assert any(
        "resuming in worker-2 from its last checkpoint" in m for m in done.log_lines.values_list("message", flat=True)
    )


@pytest.mark.django_db(transaction=True)
def test_the_background_beat_keeps_a_claimed_session_fresh_until_its_claim_is_lost(dataset, monkeypatch):
    from neural.training import progress

    monkeypatch.setattr(progress, "HEARTBEAT_S", 0.05)
    session = training_session_create(
        user=None, dataset=dataset, pattern="coordination", config=TrainConfig(epochs=1), enqueue=False
    )
    old = timezone.now() - timedelta(hours=1)
    TrainingSession.objects.filter(pk=session.pk).update(status="running", claimed_by="me", heartbeat_at=old)
    beat = progress.BackgroundBeat(session.pk, "me").start()
    while TrainingSession.objects.get(pk=session.pk).heartbeat_at == old:  # no epoch runs meanwhile
        time.sleep(0.02)
    TrainingSession.objects.filter(pk=session.pk).update(claimed_by="a-sweeper-took-it", heartbeat_at=old)
    beat._thread.join(timeout=30)
    assert not beat._thread.is_alive()  # it stopped by itself once the claim was lost
    assert TrainingSession.objects.get(pk=session.pk).heartbeat_at == old
    beat.stop()


def test_delete_train_on_a_stale_session_answers_200_stopped_and_on_a_live_one_202(api, session):
    _running(session, beat_ago_s=1)
    live = api.delete(f"/api/v1/neural/train/{session.pk}")
    assert live.status_code == 202 and live.json()["status"] == "running"
    TrainingSession.objects.filter(pk=session.pk).update(heartbeat_at=timezone.now() - timedelta(hours=1))
    dead = api.delete(f"/api/v1/neural/train/{session.pk}")
    assert dead.status_code == 200 and dead.json()["status"] == "stopped"
    assert not checkpoint_dir(session.pk).exists()
