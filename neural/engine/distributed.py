"""Data-parallel training of one model (``parallel: true, workers: N``) with torch.distributed.

The caller's process (a Celery task, the CLI) calls :func:`fit_parallel`. It starts N fresh
interpreters (``python -m neural.engine.rank``, never a fork: a Celery prefork worker may not
have children of its own, and a fresh interpreter imports the engine only, never Django), hands
each the job over a private socket pair (JSON and safetensors, no pickles), and hosts the
rendezvous store on a port the system picks at launch. The ranks train with DDP (gloo on CPU;
nccl when each rank has its own CUDA GPU) through ``engine/replicas.py``'s hooks: every rank
draws the permutation a single process would draw from the seed and trains on its slice of each
batch, so each optimiser step uses the gradient of the batch a single process would use.

Rank 0 writes the checkpoints (every rank loads one on resume) and relays its callbacks' events
to the caller, which calls its own callbacks (the database rows, the live events) in its own
process, then answers; rank 0 writes the epoch's checkpoint only after that answer, as a single
process does. The caller polls its callbacks' stop requests and passes one on to rank 0, which
shares it with the others before the next batch. A rank that fails or dies ends the training:
the others are killed, the caller raises :class:`WorkerFailed` naming the rank and the reason,
and a rank whose caller died exits within half a second. Nothing is left running.
"""

from __future__ import annotations

import contextlib
import json
import os
import signal
import socket
import subprocess
import sys
import time
from dataclasses import dataclass
from datetime import timedelta
from multiprocessing.connection import Connection, wait
from pathlib import Path

import torch
import torch.distributed as dist
from safetensors.torch import load as load_tensors
from safetensors.torch import save as save_tensors
from torch import nn

from neural.engine.callbacks import BatchState, Callback, EpochState
from neural.engine.config import TrainConfig
from neural.engine.errors import DataError, EngineError, NonFiniteLoss, StopTraining
from neural.engine.trainer import FitResult, TensorData, Trainer

HOST = "127.0.0.1"
POLL_S = 0.1  # how often the caller asks its callbacks whether to stop
GRACE_S = 2.0  # after a failure, how long the caller waits to learn which rank failed first
RENDEZVOUS_TIMEOUT = timedelta(minutes=5)
PACKAGE_ROOT = Path(__file__).resolve().parents[2]  # the folder holding the neural package


class WorkerFailed(EngineError):
    """A training process failed or died; the message names its rank and why."""


def backend_for(config: TrainConfig) -> str:
    """The backend ``config`` asks for, or nccl when every rank can have its own CUDA GPU, else
    gloo (which also averages CUDA tensors, e.g. several ranks sharing one GPU)."""
    if config.parallel_backend:
        return config.parallel_backend
    usable = config.gpu and dist.is_nccl_available() and torch.cuda.device_count() >= (config.workers or 0)
    return "nccl" if usable else "gloo"


def fit_parallel(trainer: Trainer, model: nn.Module, arch: dict, train: TensorData, val: TensorData) -> FitResult:
    """Train ``model`` (built by ``build_network(arch)``) as ``trainer.fit`` would, in
    ``trainer.config.workers`` processes; on return ``model`` holds the best weights (on the CPU).

    Raises:
        StopTraining: a callback asked to stop.
        NonFiniteLoss: the loss became NaN or infinite.
        WorkerFailed: a process failed or died; the others were ended.
    """
    config = trainer.config
    world = config.workers
    if len(train) < 2 * world:
        raise DataError(f"{len(train)} training rows cannot be shared by {world} processes", field="workers")
    backend = backend_for(config)
    store = dist.TCPStore(HOST, 0, None, True, timeout=RENDEZVOUS_TIMEOUT, wait_for_workers=False)
    for cb in trainer.callbacks:
        cb.on_log("info", f"data-parallel: {world} processes, {backend} backend, rendezvous on {HOST}:{store.port}")
    job = {
        "config": config.to_dict(),
        "task": str(trainer.task),
        "arch": arch,
        "target_scale": list(trainer.target_scale),
        "checkpoint_dir": str(trainer.checkpoint_dir) if trainer.checkpoint_dir is not None else None,
        "backend": backend,
        "port": store.port,
        "world": world,
        "threads": max(1, torch.get_num_threads() // world),
        "relay_batches": any(type(cb).on_batch_end is not Callback.on_batch_end for cb in trainer.callbacks),
    }
    inputs = save_tensors(
        {
            **{f"model.{k}": v.detach().cpu().contiguous() for k, v in model.state_dict().items()},
            **{
                f"{name}.{part}": getattr(split, part).cpu().contiguous()
                for name, split in (("train", train), ("val", val))
                for part in ("x_num", "x_cat", "y")
            },
        }
    )
    ranks: list[_Rank] = []
    try:
        for rank in range(world):  # all start importing torch at once, then each reads its job
            ranks.append(_Rank.start(rank, job["threads"]))
        for rank in ranks:
            rank.hand({**job, "rank": rank.rank}, inputs)
        return _Supervisor(trainer, model, ranks).run()
    finally:
        for rank in ranks:
            rank.end()
        del store


@dataclass
class _Rank:
    """One training process as the caller sees it: its process and its end of the socket pair."""

    rank: int
    process: subprocess.Popen
    conn: Connection

    @classmethod
    def start(cls, rank: int, threads: int) -> _Rank:
        ours, theirs = socket.socketpair()
        env = {
            **os.environ,
            "PYTHONPATH": os.pathsep.join(p for p in (str(PACKAGE_ROOT), os.environ.get("PYTHONPATH", "")) if p),
            "OMP_NUM_THREADS": str(threads),
            "PHOTONDRIFT_RANK_FD": str(theirs.fileno()),
            "PHOTONDRIFT_RANK_PARENT": str(os.getpid()),
        }
        process = subprocess.Popen(
            [sys.executable, "-m", "neural.engine.rank"],
            env=env,
            pass_fds=(theirs.fileno(),),
            stdin=subprocess.DEVNULL,
            stdout=subprocess.DEVNULL,  # the caller's stdout may be a --json document
            cwd=PACKAGE_ROOT,
        )
        theirs.close()
        return cls(rank, process, Connection(ours.detach()))

    def hand(self, job: dict, inputs: bytes) -> None:
        """Send the job and its tensors (the process reads them once its imports are done)."""
        try:
            self.conn.send_bytes(json.dumps(job).encode())
            self.conn.send_bytes(inputs)
        except OSError as exc:
            with contextlib.suppress(subprocess.TimeoutExpired):  # its exit status, when it has one
                self.process.wait(timeout=GRACE_S)
            raise WorkerFailed(f"training process {self.rank} ended before it started: {self.exit_reason()}") from exc

    def send(self, message: dict) -> None:
        self.conn.send_bytes(json.dumps(message).encode())

    def exit_reason(self) -> str:
        code = self.process.poll()
        if code is None:
            return "it is still running"
        if code < 0:
            return f"it was killed by {signal.Signals(-code).name}"
        return f"it exited with status {code}"

    def end(self) -> None:
        """Kill the process unless it has exited, and reap it."""
        if self.process.poll() is None:
            self.process.kill()
        self.process.wait()
        self.conn.close()


class _Supervisor:
    """The caller's loop: relays rank 0's events to the callbacks, passes stop requests on,
    collects the result, and turns a rank's failure into an exception."""

    def __init__(self, trainer: Trainer, model: nn.Module, ranks: list[_Rank]) -> None:
        self.callbacks = trainer.callbacks
        self.listeners = [cb for cb in self.callbacks if type(cb).on_batch_end is not Callback.on_batch_end]
        self.model, self.ranks = model, ranks
        self.result: FitResult | None = None
        self.failures: list[tuple[_Rank, Exception]] = []

    def run(self) -> FitResult:
        running = {rank.conn: rank for rank in self.ranks}
        stop_sent = False
        while running and not self.failures:
            for conn in wait(list(running), timeout=POLL_S):
                rank = running[conn]
                try:
                    message = json.loads(conn.recv_bytes())
                except EOFError:
                    del running[conn]
                    self._ended(rank)
                    continue
                self._handle(rank, message)
            if not stop_sent and not self.failures and any(cb.should_stop() for cb in self.callbacks):
                self.ranks[0].send({"kind": "stop"})
                stop_sent = True
        if self.failures:
            raise self._first_cause()
        if self.result is None:
            raise WorkerFailed("the training processes ended without a result")
        return self.result

    def _handle(self, rank: _Rank, message: dict) -> None:
        kind = message["kind"]
        if kind == "epoch":
            state = EpochState(**message["state"])
            for cb in self.callbacks:
                cb.on_epoch_end(state)
            rank.send({"kind": "ack"})  # rank 0 writes the epoch's checkpoint now
        elif kind == "batch":
            state = BatchState(**message["state"])  # its loss is a float: float(state.loss) holds
            for cb in self.listeners:
                cb.on_batch_end(state)
        elif kind == "result":
            weights = load_tensors(rank.conn.recv_bytes())
            self.model.load_state_dict(weights)
            self.result = FitResult(**message["fit"])
        elif kind == "failed":
            self.failures.append((rank, _rebuilt(rank.rank, message)))

    def _ended(self, rank: _Rank) -> None:
        rank.process.wait()
        if rank.process.returncode != 0:
            self.failures.append(
                (rank, WorkerFailed(f"training process {rank.rank} of {len(self.ranks)} died: {rank.exit_reason()}"))
            )

    def _first_cause(self) -> Exception:
        """The failure to report. When one rank dies, the others fail a moment later on their next
        collective ("connection closed"); its death, or a stop or a NaN loss that every rank sees
        alike, says more than those, so wait briefly for every rank to end and prefer them."""
        deadline = time.monotonic() + GRACE_S
        for rank in self.ranks:
            with contextlib.suppress(subprocess.TimeoutExpired):  # still running: end() kills it
                rank.process.wait(timeout=max(0.0, deadline - time.monotonic()))
        killed = next((rank for rank in self.ranks if (rank.process.returncode or 0) < 0), None)
        if killed is not None:
            return WorkerFailed(f"training process {killed.rank} of {len(self.ranks)} died: {killed.exit_reason()}")
        errors = [exc for _, exc in self.failures]
        for kind in (StopTraining, NonFiniteLoss, DataError):
            found = next((e for e in errors if isinstance(e, kind)), None)
            if found is not None:
                return found
        return errors[0]


def _rebuilt(rank: int, message: dict) -> Exception:
    """The exception a rank reported, as the caller raises it."""
    kind, text = message["type"], message["message"]
    if kind == "StopTraining":
        return StopTraining()
    if kind == "NonFiniteLoss":
        return NonFiniteLoss(text)
    if kind == "DataError":
        return DataError(text, field=message.get("field"))
    return WorkerFailed(f"training process {rank} failed: {kind}: {text}")
