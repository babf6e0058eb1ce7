"""Data-parallel training (engine/distributed.py): two gloo processes on the CPU train as one
process does, stop, checkpoint and resume as one does, and fail cleanly when a process dies."""

from __future__ import annotations

import json
import os
import signal
import subprocess
import sys
import time
from pathlib import Path

import numpy as np
import psutil
import pytest
import torch
from torch import nn

from neural.engine.callbacks import Callback
from neural.engine.config import TrainConfig
from neural.engine.distributed import WorkerFailed, backend_for, fit_parallel
from neural.engine.errors import DataError, StopTraining
from neural.engine.pipeline import train_tabular
from neural.engine.schema import TaskKind
from neural.engine.trainer import TensorData, Trainer
from tests.engine.test_training import Recorder, learnable_frame

# No dropout and layer norm: then nothing random differs between one process and two (each
# process's dropout masks and batch-norm statistics are its own), and two processes compute the
# same gradient as one (the mean over the same batch, summed in another order): every epoch's
# losses agree to float rounding, so a wrong shard, scale or average shows at once.
EXACT = {"architecture": "mlp", "dropout": 0.0, "norm": "layer", "early_stopping": False, "batch_size": 64, "seed": 5}
PARALLEL = {"parallel": True, "workers": 2}
ROOT = Path(__file__).resolve().parents[2]


class Events(Recorder):
    """Every epoch, log line and batch the caller's callbacks see, and the checkpoint on disk
    when each epoch arrives."""

    def __init__(self, checkpoints=None, stop_after=None) -> None:
        super().__init__(stop_after)
        self.logs: list[str] = []
        self.batches = 0
        self.checkpoints, self.saved_at_epoch = checkpoints, []

    def on_epoch_end(self, state) -> None:
        super().on_epoch_end(state)
        saved = self.checkpoints / "checkpoint.json" if self.checkpoints else None
        self.saved_at_epoch.append(json.loads(saved.read_text())["epoch"] if saved and saved.exists() else None)

    def on_log(self, level, message) -> None:
        self.logs.append(message)

    def on_batch_end(self, state) -> None:
        self.batches += 1
        assert float(state.loss) > 0


def _losses(history: list[dict]) -> list[tuple[float, float]]:
    return [(e["train_loss"], e["val_loss"]) for e in history]


@pytest.mark.slow
def test_two_processes_train_stop_and_resume_as_one_process_does(tmp_path):
    df = learnable_frame(n=300)
    straight = train_tabular(df, "label", config=TrainConfig(epochs=4, **EXACT))

    first = Events(checkpoints=tmp_path, stop_after=2)
    with pytest.raises(StopTraining):
        train_tabular(
            df, "label", config=TrainConfig(epochs=4, **EXACT, **PARALLEL), callbacks=[first], checkpoint_dir=tmp_path
        )
    assert first.logs[0].startswith("data-parallel: 2 processes, gloo backend, rendezvous on 127.0.0.1:")
    # Each epoch reached the caller's callbacks before rank 0 wrote its checkpoint; the stop
    # came within a batch of the request (no third epoch).
    assert first.saved_at_epoch == [None, 1] and len(first.epochs) == 2
    assert json.loads((tmp_path / "checkpoint.json").read_text())["epoch"] == 2
    assert first.batches > 0

    second = Events()
    resumed = train_tabular(
        df, "label", config=TrainConfig(epochs=4, **EXACT, **PARALLEL), callbacks=[second], checkpoint_dir=tmp_path
    )
    assert resumed.fit.resumed_from == 2 and [e["epoch"] for e in second.epochs] == [3, 4]
    assert len(resumed.fit.history) == len(straight.fit.history) == 4
    for got, want in zip(_losses(resumed.fit.history), _losses(straight.fit.history), strict=True):
        assert got == pytest.approx(want, rel=1e-4)
    assert resumed.test_metrics == pytest.approx(straight.test_metrics, rel=1e-4)
    assert psutil.Process().children() == []


@pytest.mark.slow
def test_a_process_that_dies_fails_the_training_with_the_reason_and_leaves_none_behind():
    class KillRankOne(Callback):
        def on_epoch_end(self, state) -> None:
            ranks = sorted(psutil.Process().children(), key=lambda p: p.pid)
            os.kill(ranks[-1].pid, signal.SIGKILL)

    config = TrainConfig(epochs=5, **EXACT, **PARALLEL)
    with pytest.raises(WorkerFailed, match=r"training process 1 of 2 died: it was killed by SIGKILL"):
        train_tabular(learnable_frame(n=200), "label", config=config, callbacks=[KillRankOne()])
    assert psutil.Process().children() == []


@pytest.mark.parametrize(
    ("options", "field", "message"),
    [
        ({"parallel": True}, "workers", "workers must be given with parallel"),
        ({"parallel": True, "workers": 1}, "workers", "workers must be a whole number >= 2, got 1"),
        ({"parallel": True, "workers": 2.5}, "workers", "whole number"),
        ({"parallel": True, "workers": (os.cpu_count() or 1) + 1}, "workers", "the CPU cores of this machine"),
        ({"parallel": True, "workers": 2, "batch_size": 3}, "workers", "batch_size must be at least 4"),
        ({"workers": 2}, "workers", "set parallel to true"),
        ({"parallel_backend": "gloo"}, "parallel_backend", "set parallel to true"),
        ({"parallel": True, "workers": 2, "parallel_backend": "mpi"}, "parallel_backend", "one of gloo, nccl"),
        ({"parallel": "yes", "workers": 2}, "parallel", "true or false"),
        pytest.param(
            {"parallel": True, "workers": 2, "parallel_backend": "nccl"},
            "parallel_backend",
            "nccl trains on CUDA GPUs",
            marks=pytest.mark.skipif((os.cpu_count() or 1) < 2, reason="refused earlier: one core"),
        ),
    ],
)
def test_it_refuses_what_data_parallel_training_cannot_do(options, field, message):
    with pytest.raises(DataError, match=message) as err:
        TrainConfig.from_dict(options)
    assert err.value.field == field


def test_it_says_no_second_process_is_possible_on_one_core(monkeypatch):
    monkeypatch.setattr(os, "cpu_count", lambda: 1)
    with pytest.raises(DataError, match="no second process possible: this machine has 1 CPU core") as err:
        TrainConfig.from_dict({"parallel": True, "workers": 2})
    assert err.value.field == "workers"


def test_it_picks_gloo_on_the_cpu_and_nccl_only_for_one_gpu_per_process():
    assert backend_for(TrainConfig(parallel=True, workers=2)) == "gloo"
    on_gpus = TrainConfig(parallel=True, workers=2, gpu=torch.cuda.is_available())
    enough = on_gpus.gpu and torch.distributed.is_nccl_available() and torch.cuda.device_count() >= 2
    assert backend_for(on_gpus) == ("nccl" if enough else "gloo")


def test_it_refuses_more_processes_than_training_rows_before_starting_any():
    three = TensorData.from_numpy(np.zeros((3, 2), np.float32), np.zeros((3, 0), np.int64), np.array([0, 1, 0]))
    trainer = Trainer(TrainConfig(epochs=1, **PARALLEL), TaskKind.BINARY)
    with pytest.raises(DataError, match="3 training rows cannot be shared by 2 processes"):
        fit_parallel(trainer, nn.Linear(2, 2), {}, three, three)
    assert psutil.Process().children() == []


@pytest.mark.slow
def test_the_processes_end_when_their_caller_is_killed(tmp_path):
    caller = subprocess.Popen(
        [
            sys.executable,
            "-c",
            "import sys; from neural.engine.config import TrainConfig;"
            "from neural.engine.pipeline import train_tabular;"
            "from tests.engine.test_training import learnable_frame;"
            "train_tabular(learnable_frame(n=300), 'label', config=TrainConfig(epochs=10_000, early_stopping=False,"
            " parallel=True, workers=2), checkpoint_dir=__import__('pathlib').Path(sys.argv[1]))",
            str(tmp_path),
        ],
        cwd=ROOT,
    )
    try:
        deadline = time.monotonic() + 180
        while not (tmp_path / "checkpoint.json").exists() and time.monotonic() < deadline:
            time.sleep(0.2)
        ranks = psutil.Process(caller.pid).children()
        assert len(ranks) == 2 and (tmp_path / "checkpoint.json").exists()  # training, past epoch 1
    finally:
        caller.kill()
        caller.wait()
    _, alive = psutil.wait_procs(ranks, timeout=15)
    # An ended rank whose new parent (the container's first process) does not reap it stays a zombie.
    assert [p for p in alive if _status(p) != psutil.STATUS_ZOMBIE] == []


def _status(process: psutil.Process) -> str:
    try:
        return process.status()
    except psutil.NoSuchProcess:
        return psutil.STATUS_DEAD
