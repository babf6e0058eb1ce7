"""Training events. Subclass :class:`Callback` and override the hooks you need."""

from __future__ import annotations

from dataclasses import dataclass, field


@dataclass
class EpochState:
    """What one finished epoch measured. ``metrics`` holds val_* and train_loss figures."""

    epoch: int
    epochs: int
    train_loss: float
    val_loss: float
    lr: float
    elapsed_s: float
    epoch_time_s: float
    metrics: dict[str, float] = field(default_factory=dict)
    is_best: bool = False

    def to_dict(self) -> dict:
        return {
            "epoch": self.epoch,
            "train_loss": self.train_loss,
            "val_loss": self.val_loss,
            "lr": self.lr,
            "elapsed_s": self.elapsed_s,
            "epoch_time_s": self.epoch_time_s,
            **self.metrics,
        }


@dataclass
class BatchState:
    """One finished training batch. ``loss`` is the batch's 0-d loss tensor: reading it
    (``float(state.loss)``) waits for a GPU, so a callback reads it only when it keeps it."""

    epoch: int
    step: int
    steps: int
    global_step: int
    loss: object


class Callback:
    """No-op hooks; the trainer calls them in order for every registered callback."""

    def on_train_start(self, info: dict) -> None:
        """Called once with a summary of the data and the configuration."""

    def on_epoch_end(self, state: EpochState) -> None:
        """Called after validation of each epoch."""

    def on_batch_end(self, state: BatchState) -> None:
        """Called after every optimizer step. Must be cheap: rate-limit anything it records."""

    def should_stop(self) -> bool:
        """Checked before every batch; return True to stop at once. Must be cheap."""
        return False

    def on_log(self, level: str, message: str) -> None:
        """A log line worth keeping (warnings, data summary)."""
