"""One process of a data-parallel training (``python -m neural.engine.rank``, started by
``engine/distributed.py: fit_parallel``): reads its job from the caller, joins the process group,
trains with ``engine/replicas.py``'s hooks implemented on torch.distributed, and, as rank 0,
relays its events to the caller and sends back the result. Imports the engine only."""

from __future__ import annotations

import json
import os
import sys
import threading
import time
import traceback
from dataclasses import asdict
from multiprocessing.connection import Connection
from pathlib import Path

import torch
import torch.distributed as dist
from safetensors.torch import load as load_tensors
from safetensors.torch import save as save_tensors
from torch import nn
from torch.nn.parallel import DistributedDataParallel

from neural.engine.callbacks import BatchState, Callback, EpochState
from neural.engine.config import TrainConfig
from neural.engine.distributed import HOST, RENDEZVOUS_TIMEOUT
from neural.engine.errors import EngineError, StopTraining
from neural.engine.networks import build_network
from neural.engine.replicas import SingleProcess
from neural.engine.schema import TaskKind
from neural.engine.trainer import TensorData, Trainer

BATCH_EVERY_S = 0.05  # rank 0 relays at most 20 batch losses a second


class ProcessGroup(SingleProcess):
    """``replicas.SingleProcess``'s hooks for one rank of a torch.distributed process group."""

    def __init__(self, rank: int, world: int, device: torch.device, seed: int) -> None:
        self.rank, self.world, self.device, self.seed = rank, world, device, seed
        # Collectives of the trainer's own small tensors: on the GPU for nccl, else on the CPU.
        self.flags = device if dist.get_backend() == "nccl" else torch.device("cpu")

    def wrap(self, model: nn.Module) -> nn.Module:
        return DistributedDataParallel(model, device_ids=[self.device.index] if self.device.type == "cuda" else None)

    def begin_epoch(self, epoch: int) -> None:
        # Each rank its own dropout masks, drawn from (seed, epoch, rank): a resumed run draws the
        # ones an uninterrupted run would have.
        torch.manual_seed(self.seed * 1_000_003 + epoch * self.world + self.rank)

    def shard(self, rows: torch.Tensor) -> tuple[torch.Tensor, float]:
        mine = rows.tensor_split(self.world)[self.rank]
        return mine, mine.shape[0] * self.world / rows.shape[0]

    def total(self, value: torch.Tensor) -> torch.Tensor:
        shared = value.to(self.flags)
        dist.all_reduce(shared)
        return shared

    def any(self, flag: bool) -> bool:
        shared = torch.tensor([int(flag)], device=self.flags)
        dist.all_reduce(shared, op=dist.ReduceOp.MAX)
        return bool(shared.item())

    def settle(self, model: nn.Module) -> None:
        for buffer in model.buffers():
            dist.broadcast(buffer, 0)

    def agree(self, value: float) -> float:
        shared = torch.tensor([value], dtype=torch.float64, device=self.flags)
        dist.broadcast(shared, 0)
        return float(shared.item())


class _Relay(Callback):
    """Rank 0's callback: sends each event to the caller; an epoch waits for its answer."""

    def __init__(self, conn: Connection, batches: bool) -> None:
        self.conn, self.batches = conn, batches
        self._stop = False
        self._next_batch_at = 0.0

    def on_epoch_end(self, state: EpochState) -> None:
        self._send({"kind": "epoch", "state": asdict(state)})
        while self._receive()["kind"] != "ack":
            pass

    def on_batch_end(self, state: BatchState) -> None:
        now = time.monotonic()
        if self.batches and now >= self._next_batch_at:
            self._next_batch_at = now + BATCH_EVERY_S
            self._send({"kind": "batch", "state": {**asdict(state), "loss": float(state.loss)}})

    def should_stop(self) -> bool:
        while not self._stop and self.conn.poll():
            self._receive()
        return self._stop

    def _send(self, message: dict) -> None:
        self.conn.send_bytes(json.dumps(message).encode())

    def _receive(self) -> dict:
        message = json.loads(self.conn.recv_bytes())
        self._stop = self._stop or message["kind"] == "stop"
        return message


def _watch_parent(parent: int) -> None:
    """Exit when the caller dies (this process is then re-parented): no orphan trains on."""

    def watch() -> None:
        while os.getppid() == parent:
            time.sleep(0.5)
        os._exit(1)

    threading.Thread(target=watch, name="watch-parent", daemon=True).start()


def main() -> int:
    """One rank: read the job, join the group, train, send rank 0's result."""
    _watch_parent(int(os.environ["PHOTONDRIFT_RANK_PARENT"]))
    conn = Connection(int(os.environ["PHOTONDRIFT_RANK_FD"]))
    job = json.loads(conn.recv_bytes())
    tensors = load_tensors(conn.recv_bytes())
    rank, world = job["rank"], job["world"]
    try:
        torch.set_num_threads(job["threads"])
        config = TrainConfig.from_dict(job["config"])
        device = torch.device("cuda", rank % torch.cuda.device_count()) if config.gpu else torch.device("cpu")
        if device.type == "cuda":
            torch.cuda.set_device(device)
        store = dist.TCPStore(HOST, job["port"], None, False, timeout=RENDEZVOUS_TIMEOUT)
        dist.init_process_group(job["backend"], store=store, rank=rank, world_size=world, timeout=RENDEZVOUS_TIMEOUT)
        model = build_network(job["arch"])
        model.load_state_dict({k.removeprefix("model."): v for k, v in tensors.items() if k.startswith("model.")})
        splits = {
            name: TensorData(*(tensors[f"{name}.{part}"] for part in ("x_num", "x_cat", "y")))
            for name in ("train", "val")
        }
        trainer = Trainer(
            config,
            TaskKind(job["task"]),
            callbacks=[_Relay(conn, job["relay_batches"])] if rank == 0 else [],
            checkpoint_dir=Path(job["checkpoint_dir"]) if job["checkpoint_dir"] else None,
            target_scale=tuple(job["target_scale"]),
            replicas=ProcessGroup(rank, world, device, config.seed),
        )
        fit = trainer.fit(model, splits["train"], splits["val"])
        if rank == 0:
            conn.send_bytes(json.dumps({"kind": "result", "fit": asdict(fit)}).encode())
            conn.send_bytes(save_tensors({k: v.detach().cpu().contiguous() for k, v in model.state_dict().items()}))
        dist.destroy_process_group()
        return 0
    except BaseException as exc:  # reported to the caller, which fails the training with it
        report = {"kind": "failed", "type": type(exc).__name__, "message": getattr(exc, "message", str(exc))}
        if isinstance(exc, EngineError):
            report["field"] = exc.field
        elif not isinstance(exc, StopTraining):
            traceback.print_exc()  # into the caller's log (a worker's stderr)
        try:
            conn.send_bytes(json.dumps(report).encode())
        except OSError as lost:
            print(f"rank {rank}: the caller is gone, its failure unreported: {lost}", file=sys.stderr)
        return 1


if __name__ == "__main__":
    # Leave without the interpreter's teardown: gloo's threads may still be joinable when C++
    # destructors run at exit, and std::terminate then kills a rank that has already finished with
    # SIGABRT (seen in CI on the 2-core machine, "terminate called without an active exception"),
    # which the caller rightly reports as a death. Everything this process owes is sent by now.
    code = main()
    sys.stdout.flush()
    sys.stderr.flush()
    os._exit(code)
