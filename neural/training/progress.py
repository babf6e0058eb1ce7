"""The engine's callback, adapted to Django: write the row, then broadcast."""

from __future__ import annotations

import logging
import threading
import time

import psutil
import torch
from django.db import connection, transaction
from django.utils import timezone

from neural.engine.callbacks import BatchState, Callback, EpochState
from neural.training.models import EpochMetric, SessionLog, StepMetric, TrainingSession
from neural.training.series import epoch_summaries_update
from photondrift.realtime import DASHBOARD_GROUP, EpochEvent, LogEvent, StatusEvent, StepEvent, broadcast, session_group

STOP_POLL_S = 0.5
HEARTBEAT_S = 5.0
logger = logging.getLogger(__name__)
STEP_FIRST_S = 0.5  # an epoch shorter than this records no batch loss: its epoch row says it all
STEP_INTERVAL_S = 0.1  # at most 10 batch losses a second are stored and sent


class ClaimLost(Exception):
    """Another process took the session over (this one was thought dead): stop writing to it."""


class SessionProgress(Callback):
    """Persists each epoch and log line of one session, checks its stop flag and, when it holds
    the session's claim ``token``, keeps the claim's heartbeat fresh.

    The database is asked at most every STOP_POLL_S (stop flag) and HEARTBEAT_S (heartbeat),
    never once per batch.
    """

    def __init__(self, session: TrainingSession, token: str | None = None) -> None:
        self.session = session
        self.token = token
        self.group = session_group(session.pk)
        self._last_poll = 0.0
        self._last_beat = time.monotonic()
        self._stop = False
        self._process = psutil.Process()
        self._started = time.monotonic()
        self._next_step_at = self._started + STEP_FIRST_S

    def on_train_start(self, info: dict) -> None:
        self._process.cpu_percent(None)  # the first call only starts the CPU clock
        self._started = time.monotonic()
        self._next_step_at = self._started + STEP_FIRST_S
        split = info["split"]
        self.on_log(
            "info",
            f"data: {info['rows']} rows, {info['features']} features, task {info['task']}; "
            f"split train/val/test = {split['train_rows']}/{split['val_rows']}/{split['test_rows']}",
        )
        self.on_log("info", f"config: {info['config']}")
        if info["config"] != self.session.config:
            # Options left to the task (dropout, norm) now have their values: keep what runs.
            TrainingSession.objects.filter(pk=self.session.pk).update(config=info["config"])
            self.session.config = info["config"]

    def on_epoch_end(self, state: EpochState) -> None:
        if self.token is not None:
            self.beat()  # through the claim: a process that lost the session stops writing here
            self._last_beat = time.monotonic()
        row = state.to_dict()
        metrics = {k: v for k, v in row.items() if k != "epoch"}
        usage = self._usage()
        fields = {
            "train_loss": state.train_loss,
            "val_loss": state.val_loss,
            "val_accuracy": state.metrics.get("val_accuracy"),
            "lr": state.lr,
            "elapsed_s": state.elapsed_s,
            "metrics": metrics,
            "is_best": state.is_best,
            **usage,
        }
        # One commit for the row and the session's counter: each commit waits for the disk (11 ms
        # each here under load), and the frame waits for it. The row is one statement (a resumed
        # run rewrites the epoch it had not finished).
        with transaction.atomic():
            EpochMetric.objects.bulk_create(
                [EpochMetric(session_id=self.session.pk, epoch=state.epoch, **fields)],
                update_conflicts=True,
                unique_fields=["session", "epoch"],
                update_fields=list(fields),
            )
            TrainingSession.objects.filter(pk=self.session.pk).update(epoch=state.epoch)
        payload = EpochEvent(session_id=self.session.pk, epoch=state.epoch, epochs=state.epochs, **fields)
        broadcast(self.group, "training.epoch", payload)
        # The epoch row is the truth and is written: the summaries derived from it and the log
        # line follow the frame, so the page is not kept waiting for them.
        epoch_summaries_update(session_id=self.session.pk, epoch=state.epoch, metrics=metrics, usage=usage)
        self.on_log(
            "info",
            "epoch {}/{}: {}".format(state.epoch, state.epochs, " ".join(f"{k}={v:.4g}" for k, v in metrics.items())),
        )
        self._next_step_at = time.monotonic() + STEP_FIRST_S

    def on_batch_end(self, state: BatchState) -> None:
        # Called after every batch: one clock read unless a record is due.
        now = time.monotonic()
        if now < self._next_step_at:
            return
        self._next_step_at = now + STEP_INTERVAL_S
        loss = float(state.loss)
        elapsed = now - self._started
        StepMetric.objects.bulk_create(
            [
                StepMetric(
                    session_id=self.session.pk, step=state.global_step, epoch=state.epoch, loss=loss, elapsed_s=elapsed
                )
            ],
            update_conflicts=True,  # a resumed run repeats the steps of its unfinished epoch
            unique_fields=["session", "step"],
            update_fields=["epoch", "loss", "elapsed_s"],
        )
        payload = StepEvent(
            session_id=self.session.pk,
            epoch=state.epoch,
            step=state.step,
            steps=state.steps,
            global_step=state.global_step,
            loss=loss,
            elapsed_s=elapsed,
        )
        broadcast(self.group, "training.step", payload)

    def _usage(self) -> dict:
        """The training process's memory now, its CPU since the last call, and its peak GPU
        memory since the last call when it trains on a GPU."""
        gpu = None
        if torch.cuda.is_available() and torch.cuda.is_initialized():
            gpu = int(torch.cuda.max_memory_allocated())
            torch.cuda.reset_peak_memory_stats()
        return {
            "rss_bytes": int(self._process.memory_info().rss),
            "cpu_percent": float(self._process.cpu_percent(None)),
            "gpu_bytes": gpu,
        }

    def should_stop(self) -> bool:
        # Called before every batch: two clock reads unless a poll is due.
        now = time.monotonic()
        if self.token is not None and now - self._last_beat >= HEARTBEAT_S:
            self._last_beat = now
            self.beat()
        if not self._stop and now - self._last_poll >= STOP_POLL_S:
            self._last_poll = now
            self._stop = TrainingSession.objects.filter(pk=self.session.pk, stop_requested=True).exists()
        return self._stop

    def beat(self) -> None:
        """Refresh the heartbeat; raise ClaimLost when another process holds the session now."""
        if not TrainingSession.objects.filter(pk=self.session.pk, claimed_by=self.token).update(
            heartbeat_at=timezone.now()
        ):
            raise ClaimLost(f"session {self.session.pk} is no longer claimed by {self.token}")

    def on_log(self, level: str, message: str) -> None:
        line = SessionLog.objects.create(session_id=self.session.pk, level=level, message=message)
        broadcast(
            self.group,
            "training.log",
            LogEvent(session_id=self.session.pk, level=level, message=message, at=line.created_at.isoformat()),
        )


def broadcast_status(session: TrainingSession) -> None:
    data = StatusEvent(
        session_id=session.pk,
        status=session.status,
        epoch=session.epoch,
        epochs=session.epochs,
        error=session.error,
        at=timezone.now().isoformat(),
        model_version=str(session.model_version) if session.model_version_id else None,
    )
    broadcast(session_group(session.pk), "training.status", data)
    broadcast(DASHBOARD_GROUP, "training.status", data)


class BackgroundBeat:
    """Refreshes a claimed session's heartbeat every HEARTBEAT_S from a daemon thread for as long
    as the process lives, so a phase with no batches (reading and preparing a large data set,
    registering the version) does not look like a dead worker to the sweep. Stops by itself once
    the claim is lost; the training loop's own beat is what stops the training then."""

    def __init__(self, session_id: int, token: str) -> None:
        self.session_id, self.token = session_id, token
        self._stop = threading.Event()
        self._thread = threading.Thread(target=self._run, name=f"session-{session_id}-beat", daemon=True)

    def start(self) -> BackgroundBeat:
        self._thread.start()
        return self

    def stop(self) -> None:
        self._stop.set()
        self._thread.join(timeout=2 * HEARTBEAT_S)

    def _run(self) -> None:
        try:
            while not self._stop.wait(HEARTBEAT_S):
                held = TrainingSession.objects.filter(pk=self.session_id, claimed_by=self.token)
                if not held.update(heartbeat_at=timezone.now()):
                    return
        except Exception:  # the loop's own beat still runs; a sweep may take the session over
            logger.exception("background heartbeat of session %s failed", self.session_id)
        finally:
            connection.close()  # this thread's own connection
