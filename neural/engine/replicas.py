"""How the training loop shares its work with its peers: alone, every hook is the identity.

``neural/engine/distributed.py: ProcessGroup`` overrides each hook for data-parallel training
(``--parallel --workers N``); the trainer calls them at the same points in every process, so
all processes take the same decisions (early stopping, learning rate, stop requests) together.
"""

from __future__ import annotations

import torch
from torch import nn


class SingleProcess:
    """The trainer's view of its peers when it trains alone (rank 0 of 1)."""

    rank = 0
    world = 1

    @property
    def is_main(self) -> bool:
        """The process that reports to the callbacks and writes the checkpoints."""
        return self.rank == 0

    def wrap(self, model: nn.Module) -> nn.Module:
        """The module to train through (DDP averages the gradients of its backward passes)."""
        return model

    def begin_epoch(self, epoch: int) -> None:
        """Called before each training epoch (a process seeds its own dropout here)."""

    def shard(self, rows: torch.Tensor) -> tuple[torch.Tensor, float]:
        """This process's rows of one batch, and the factor its mean loss is scaled by so that
        averaging the gradients of all processes gives the gradient of the whole batch."""
        return rows, 1.0

    def total(self, value: torch.Tensor) -> torch.Tensor:
        """The sum of ``value`` over all processes."""
        return value

    def any(self, flag: bool) -> bool:
        """True in every process when ``flag`` is true in one of them."""
        return flag

    def settle(self, model: nn.Module) -> None:
        """Before validation: make the module's buffers (batch-norm statistics) the same everywhere."""

    def agree(self, value: float) -> float:
        """The main process's ``value`` (a validation loss), so every process decides alike."""
        return value
