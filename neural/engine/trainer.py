"""The training loop: AdamW, LR schedule, clipping, early stopping with best-weights restore."""

from __future__ import annotations

import contextlib
import math
import time
from collections.abc import Sequence
from dataclasses import dataclass, field
from pathlib import Path

import numpy as np
import torch
from torch import nn

from neural.engine.callbacks import BatchState, Callback, EpochState
from neural.engine.checkpoint import load_checkpoint, save_checkpoint
from neural.engine.config import TrainConfig
from neural.engine.errors import NonFiniteLoss, StopTraining
from neural.engine.metrics import classification_metrics, regression_metrics
from neural.engine.replicas import SingleProcess
from neural.engine.schema import TaskKind

EVAL_CHUNK = 16384


@dataclass
class TensorData:
    """One split as tensors: numerics, categorical indices, encoded target."""

    x_num: torch.Tensor
    x_cat: torch.Tensor
    y: torch.Tensor

    def __len__(self) -> int:
        return self.y.shape[0]

    @classmethod
    def from_numpy(cls, x_num: np.ndarray, x_cat: np.ndarray, y: np.ndarray) -> TensorData:
        return cls(torch.from_numpy(x_num), torch.from_numpy(x_cat), torch.from_numpy(y))

    def to(self, device: torch.device) -> TensorData:
        return TensorData(self.x_num.to(device), self.x_cat.to(device), self.y.to(device))


@dataclass
class FitResult:
    history: list[dict] = field(default_factory=list)
    best_epoch: int = 0
    stopped_early: bool = False
    resumed_from: int = 0


def loss_function(
    task: TaskKind, class_weights: torch.Tensor | None = None, regression: str = "huber", smoothing: float = 0.0
) -> nn.Module:
    """Cross-entropy (optionally class-weighted, label-smoothed); Huber or MSE on the standardised
    target. An ensemble network's training output (one prediction per member, TabM) is scored
    member by member: the mean of the members' losses."""
    if task.is_classification:
        return _PerMember(nn.CrossEntropyLoss(weight=class_weights, label_smoothing=smoothing), 3)
    return _PerMember(nn.MSELoss() if regression == "mse" else nn.HuberLoss(delta=1.0), 2)


class _PerMember(nn.Module):
    """``loss`` over (batch, members, ...) outputs by repeating each row's target per member."""

    def __init__(self, loss: nn.Module, member_ndim: int) -> None:
        super().__init__()
        self.loss, self.member_ndim = loss, member_ndim

    def forward(self, out: torch.Tensor, y: torch.Tensor) -> torch.Tensor:
        if out.dim() != self.member_ndim:
            return self.loss(out, y)
        k = out.shape[1]
        return self.loss(out.flatten(0, 1), y.repeat_interleave(k, dim=0))


class Trainer:
    """Fits a network on tensor splits and reports each epoch to callbacks.

    Args:
        config: hyperparameters.
        task: binary, multiclass or regression.
        callbacks: receive epoch events and may request a stop.
        checkpoint_dir: when given, a checkpoint is written after every epoch and a run
            that finds one resumes from its last epoch.
        target_scale: (mean, std) of a standardised regression target, to report R² and MAE
            in the target's own units.
        replicas: the processes this one trains with (data-parallel training, see
            ``engine/distributed.py``); alone by default.
    """

    def __init__(
        self,
        config: TrainConfig,
        task: TaskKind,
        callbacks: Sequence[Callback] = (),
        checkpoint_dir: Path | None = None,
        target_scale: tuple[float, float] = (0.0, 1.0),
        replicas: SingleProcess | None = None,
    ) -> None:
        self.config = config
        self.task = task
        self.callbacks = list(callbacks)
        # Only callbacks that override on_batch_end are called per batch (no cost otherwise).
        self._batch_listeners = [cb for cb in self.callbacks if type(cb).on_batch_end is not Callback.on_batch_end]
        self.checkpoint_dir = checkpoint_dir
        self.target_scale = target_scale
        self.replicas = replicas or SingleProcess()

    def fit(self, model: nn.Module, train: TensorData, val: TensorData) -> FitResult:
        cfg, device, replicas = self.config, self.config.device, self.replicas
        model.to(device)
        train, val = train.to(device), val.to(device)
        # The fused kernel updates every parameter in one call (the same AdamW update, computed
        # in one loop): on the CPU a small network's step takes 0.76-0.96x the per-parameter
        # loop's (benchmarks/network_cost.py).
        fused = device.type in ("cpu", "cuda")
        optimizer = torch.optim.AdamW(
            model.parameters(), lr=cfg.learning_rate, weight_decay=cfg.weight_decay, fused=fused or None
        )
        steps = _steps_per_epoch(len(train), cfg.batch_size, replicas.world)
        scheduler = _scheduler(cfg, optimizer, steps)
        weights = self._class_weights(train)
        loss_fn = loss_function(self.task, weights, cfg.regression_loss, cfg.label_smoothing).to(device)
        result = FitResult()
        best = {"val_loss": math.inf, "state": _snapshot(model), "wait": 0}
        generator = torch.Generator().manual_seed(cfg.seed)
        # AMP on CUDA: float16 with one loss scaler for the whole run (its scale is learned across
        # epochs and checkpointed); bfloat16 on the CPU needs none.
        scaler = torch.amp.GradScaler("cuda") if cfg.mixed_precision and device.type == "cuda" else None
        start_epoch = 1
        if self.checkpoint_dir is not None and (self.checkpoint_dir / "checkpoint.json").exists():
            trainer_state = load_checkpoint(self.checkpoint_dir, model, optimizer, scheduler, generator)
            start_epoch = trainer_state["epoch"] + 1
            result.history = trainer_state["history"]
            result.resumed_from = trainer_state["epoch"]
            best.update(val_loss=trainer_state["best_val_loss"], wait=trainer_state["wait"])
            best["state"] = trainer_state["best_state"]
            result.best_epoch = trainer_state["best_epoch"]
            if scaler is not None and trainer_state.get("grad_scaler"):
                scaler.load_state_dict(trainer_state["grad_scaler"])
        started = time.perf_counter() - (result.history[-1]["elapsed_s"] if result.history else 0.0)
        trained = replicas.wrap(model)  # after the checkpoint is loaded: DDP starts from rank 0's weights
        for epoch in range(start_epoch, cfg.epochs + 1):
            epoch_start = time.perf_counter()
            replicas.begin_epoch(epoch)
            train_loss = self._train_epoch(
                trained, train, optimizer, scheduler, loss_fn, generator, steps, scaler, epoch
            )
            replicas.settle(model)
            val_loss, metrics = self.evaluate(model, val, loss_fn)
            val_loss = replicas.agree(val_loss)
            if not (math.isfinite(train_loss) and math.isfinite(val_loss)):
                raise NonFiniteLoss(f"loss became non-finite at epoch {epoch} (train {train_loss}, val {val_loss})")
            if isinstance(scheduler, torch.optim.lr_scheduler.ReduceLROnPlateau):
                scheduler.step(val_loss)
            is_best = val_loss < best["val_loss"] - 1e-7
            if is_best:
                best.update(val_loss=val_loss, state=_snapshot(model), wait=0)
                result.best_epoch = epoch
            else:
                best["wait"] += 1
            now = time.perf_counter()
            state = EpochState(
                epoch=epoch,
                epochs=cfg.epochs,
                train_loss=train_loss,
                val_loss=val_loss,
                lr=optimizer.param_groups[0]["lr"],
                elapsed_s=now - started,
                epoch_time_s=now - epoch_start,
                metrics=metrics,
                is_best=is_best,
            )
            result.history.append(state.to_dict())
            # The callbacks (the epoch's database row) before the checkpoint: a process killed in
            # between resumes from the epoch before and writes this one again, never skips it.
            for cb in self.callbacks:
                cb.on_epoch_end(state)
            if self.checkpoint_dir is not None and replicas.is_main:
                save_checkpoint(
                    self.checkpoint_dir,
                    model,
                    optimizer,
                    scheduler,
                    generator,
                    {
                        "epoch": epoch,
                        "history": result.history,
                        "best_val_loss": best["val_loss"],
                        "wait": best["wait"],
                        "best_epoch": result.best_epoch,
                        "grad_scaler": scaler.state_dict() if scaler is not None else None,
                    },
                    best["state"],
                )
            if cfg.early_stopping and best["wait"] >= cfg.patience:
                result.stopped_early = True
                break
        model.load_state_dict(best["state"])
        return result

    def _train_epoch(self, model, data, optimizer, scheduler, loss_fn, generator, steps, scaler, epoch=1) -> float:
        cfg = self.config
        model.train()
        n = len(data)
        perm = torch.randperm(n, generator=generator).to(data.y.device)
        total = torch.zeros((), device=data.y.device)
        use_amp = cfg.mixed_precision
        amp_dtype = torch.bfloat16 if data.y.device.type == "cpu" else torch.float16
        for step in range(steps):
            if self.replicas.any(any(cb.should_stop() for cb in self.callbacks)):
                raise StopTraining()
            idx, share = self.replicas.shard(perm[step * cfg.batch_size : (step + 1) * cfg.batch_size])
            optimizer.zero_grad(set_to_none=True)
            # A disabled autocast still costs a few microseconds per batch to enter and leave.
            with torch.autocast(data.y.device.type, dtype=amp_dtype) if use_amp else contextlib.nullcontext():
                out = model(data.x_num[idx], data.x_cat[idx])
                loss = loss_fn(out.float().squeeze(-1) if not self.task.is_classification else out.float(), data.y[idx])
            step_loss = loss if share == 1.0 else loss * share
            if scaler is not None:
                scaler.scale(step_loss).backward()
                scaler.unscale_(optimizer)
            else:
                step_loss.backward()
            if cfg.grad_clip:
                nn.utils.clip_grad_norm_(model.parameters(), cfg.grad_clip, foreach=True)
            if scaler is not None:
                scaler.step(optimizer)
                scaler.update()
            else:
                optimizer.step()
            if not isinstance(scheduler, torch.optim.lr_scheduler.ReduceLROnPlateau):
                scheduler.step()
            total += loss.detach() * idx.shape[0]
            if self._batch_listeners:
                batch = BatchState(epoch, step + 1, steps, (epoch - 1) * steps + step + 1, loss.detach())
                for cb in self._batch_listeners:
                    cb.on_batch_end(batch)
        return float(self.replicas.total(total).item()) / (steps * cfg.batch_size if steps * cfg.batch_size < n else n)

    @torch.no_grad()
    def predict_raw(self, model: nn.Module, data: TensorData) -> torch.Tensor:
        model.eval()
        chunks = [
            model(data.x_num[i : i + EVAL_CHUNK], data.x_cat[i : i + EVAL_CHUNK]).float()
            for i in range(0, len(data), EVAL_CHUNK)
        ]
        return torch.cat(chunks) if chunks else torch.zeros((0, 1))

    def evaluate(self, model: nn.Module, data: TensorData, loss_fn: nn.Module) -> tuple[float, dict]:
        out = self.predict_raw(model, data)
        y = data.y
        if self.task.is_classification:
            loss = float(loss_fn(out, y).item())
            if not math.isfinite(loss):
                return loss, {}  # the caller stops the run; metrics of NaN outputs mean nothing
            proba = torch.softmax(out, dim=1).cpu().numpy()
            metrics = {f"val_{k}": v for k, v in classification_metrics(y.cpu().numpy(), proba).items()}
        else:
            loss = float(loss_fn(out.squeeze(-1), y).item())
            if not math.isfinite(loss):
                return loss, {}
            mean, std = self.target_scale
            truth = y.cpu().numpy() * std + mean
            pred = out.squeeze(-1).cpu().numpy() * std + mean
            metrics = {f"val_{k}": v for k, v in regression_metrics(truth, pred).items()}
        return loss, metrics

    def _class_weights(self, train: TensorData) -> torch.Tensor | None:
        if not (self.config.class_weights and self.task.is_classification):
            return None
        labels = train.y.argmax(dim=1) if train.y.dim() == 2 else train.y  # soft targets when distilling
        counts = torch.bincount(labels.cpu()).float().clamp(min=1)
        return (counts.sum() / (len(counts) * counts)).to(train.y.device)


def _snapshot(model: nn.Module) -> dict[str, torch.Tensor]:
    """A detached copy of the weights (deepcopy of a state_dict is ~10x slower)."""
    return {name: tensor.detach().clone() for name, tensor in model.state_dict().items()}


def _steps_per_epoch(n: int, batch_size: int, processes: int = 1) -> int:
    # A last batch of one row (per process) breaks batch normalisation: its rows wait for the next epoch.
    full, rest = divmod(n, batch_size)
    return full + (1 if rest >= 2 * processes or full == 0 else 0)


def _scheduler(cfg: TrainConfig, optimizer, steps: int):
    if cfg.lr_schedule == "onecycle":
        return torch.optim.lr_scheduler.OneCycleLR(optimizer, max_lr=cfg.learning_rate, total_steps=cfg.epochs * steps)
    if cfg.lr_schedule == "cosine":
        return torch.optim.lr_scheduler.CosineAnnealingLR(optimizer, T_max=cfg.epochs * steps)
    return torch.optim.lr_scheduler.ReduceLROnPlateau(optimizer, factor=0.5, patience=max(1, cfg.patience // 3))
