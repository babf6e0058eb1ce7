"""The engine's callback, adapted to Django: write the row, then broadcast."""

from __future__ import annotations

import time

from django.utils import timezone

from neural.engine.callbacks import Callback, EpochState
from neural.training.models import EpochMetric, SessionLog, TrainingSession
from photondrift.realtime import DASHBOARD_GROUP, EpochEvent, LogEvent, StatusEvent, broadcast, session_group

STOP_POLL_S = 0.5
HEARTBEAT_S = 5.0


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

    def on_train_start(self, info: dict) -> None:
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
        EpochMetric.objects.update_or_create(
            session_id=self.session.pk,
            epoch=state.epoch,
            defaults={
                "train_loss": state.train_loss,
                "val_loss": state.val_loss,
                "val_accuracy": state.metrics.get("val_accuracy"),
                "lr": state.lr,
                "elapsed_s": state.elapsed_s,
                "metrics": metrics,
            },
        )
        TrainingSession.objects.filter(pk=self.session.pk).update(epoch=state.epoch)
        self.on_log(
            "info",
            "epoch {}/{}: {}".format(state.epoch, state.epochs, " ".join(f"{k}={v:.4g}" for k, v in metrics.items())),
        )
        payload = EpochEvent(
            session_id=self.session.pk,
            epoch=state.epoch,
            epochs=state.epochs,
            train_loss=state.train_loss,
            val_loss=state.val_loss,
            val_accuracy=state.metrics.get("val_accuracy"),
            lr=state.lr,
            elapsed_s=state.elapsed_s,
            metrics=metrics,
        )
        broadcast(self.group, "training.epoch", payload)

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
