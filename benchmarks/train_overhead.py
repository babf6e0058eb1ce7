"""Training throughput of the product's ``Trainer.fit`` against a bare PyTorch loop.

Both sides train the same ``TabularMLP`` (same init seed) on the same synthetic tensors with the
same batch order, optimizer, loss, LR schedule, gradient clipping, dropout and number of epochs,
and both evaluate the validation split after every epoch. Early stopping is off in the product
config so both run every epoch. Runs are interleaved with alternating order after one warm-up of
each side; the median samples/s of each side is reported with the ratio product / bare. Both
sides end on the same training loss (printed), which shows they did the same arithmetic.

Two threads on two cores are very sensitive to other processes: a busy machine (load average
above the core count) stretches single runs 5-30x and makes the medians meaningless; the script
then prints a warning. Run it on a quiet machine.

Run from the repository root::

    .venv/bin/python benchmarks/train_overhead.py [--epochs 2] [--repeats 5] [--checkpoint] [--profile] [--gpu]

``--gpu`` runs both sides on CUDA with mixed precision (float16 autocast and a loss scaler), the
product's ``--gpu --mixed-precision`` path.
"""

from __future__ import annotations

import argparse
import cProfile
import itertools
import math
import os
import pstats
import shlex
import statistics
import sys
import tempfile
import time
from dataclasses import dataclass
from pathlib import Path

import numpy as np
import torch
from torch import nn

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))

from neural.engine.callbacks import Callback, EpochState
from neural.engine.config import TrainConfig
from neural.engine.errors import DataError
from neural.engine.networks import TabularMLP
from neural.engine.schema import TaskKind
from neural.engine.trainer import TensorData, Trainer, loss_function

TARGET_RATIO = 0.95
CARDINALITIES = [13, 41]  # categories per column, the unknown slot (index 0) included
STOP_POLL_S = 2.0


class StepClock:
    """Timestamps taken before every batch and after every epoch, on both sides alike.

    They split a run's time into training steps and epoch tails (last batch + validation +
    bookkeeping), which tells per-batch overhead apart from per-epoch overhead.
    """

    def __init__(self) -> None:
        self.ticks: list[list[float]] = [[]]  # per epoch: perf_counter before each batch
        self.tails: list[float] = []  # per epoch: last batch + validation + bookkeeping

    def tick(self) -> None:
        self.ticks[-1].append(time.perf_counter())

    def epoch_end(self) -> None:
        self.tails.append(time.perf_counter() - self.ticks[-1][-1])
        self.ticks.append([])

    def step_intervals(self) -> list[float]:
        return [b - a for epoch in self.ticks for a, b in itertools.pairwise(epoch)]


class FlagCallback(Callback):
    """Shaped like ``neural.training.progress.SessionProgress`` minus the database.

    ``should_stop`` is called before every batch: it reads a flag and, at most every
    ``STOP_POLL_S``, would poll for a stop request (here: nothing to poll).
    """

    def __init__(self, clock: StepClock) -> None:
        self.clock = clock
        self.states: list[EpochState] = []
        self._stop = False
        self._last_poll = 0.0

    def on_epoch_end(self, state: EpochState) -> None:
        self.states.append(state)
        self.clock.epoch_end()

    def should_stop(self) -> bool:
        self.clock.tick()
        now = time.monotonic()
        if not self._stop and now - self._last_poll >= STOP_POLL_S:
            self._last_poll = now
        return self._stop


@dataclass
class Run:
    seconds: float
    train_loss: float
    clock: StepClock


@dataclass
class Workload:
    train: TensorData
    val: TensorData
    config: TrainConfig
    n_numeric: int
    checkpoint: bool = False


def make_workload(
    rows: int, n_numeric: int, epochs: int, batch_size: int, grad_clip: float, gpu: bool = False
) -> Workload:
    """Synthetic binary task: standardised numerics, two categorical columns, a logistic target."""
    rng = np.random.default_rng(0)
    x_num = rng.standard_normal((rows, n_numeric)).astype(np.float32)
    x_cat = np.column_stack([rng.integers(0, c, rows) for c in CARDINALITIES]).astype(np.int64)
    weights = rng.standard_normal(n_numeric) / math.sqrt(n_numeric)
    cat_effect = sum(rng.standard_normal(c)[x_cat[:, i]] * 0.5 for i, c in enumerate(CARDINALITIES))
    logit = x_num @ weights + np.sin(x_num[:, 0] * x_num[:, 1]) + cat_effect
    y = (rng.random(rows) < 1 / (1 + np.exp(-logit))).astype(np.int64)
    config = TrainConfig(
        epochs=epochs,
        batch_size=batch_size,
        early_stopping=False,
        validation_split=0.2,
        test_split=0.0,
        lr_schedule="plateau",
        grad_clip=grad_clip,
        gpu=gpu,
        mixed_precision=gpu,
    ).for_task(classification=True)
    config.validate()
    n_train = int(rows * (1 - config.validation_split))
    train = TensorData.from_numpy(x_num[:n_train], x_cat[:n_train], y[:n_train])
    val = TensorData.from_numpy(x_num[n_train:], x_cat[n_train:], y[n_train:])
    return Workload(train, val, config, n_numeric)


def build_model(work: Workload) -> TabularMLP:
    cfg = work.config
    torch.manual_seed(cfg.seed)  # same init and same dropout stream on both sides
    return TabularMLP(work.n_numeric, CARDINALITIES, cfg.hidden_sizes, 2, cfg.dropout, norm=cfg.norm)


def run_product(work: Workload) -> Run:
    """``Trainer.fit`` as the product calls it (with per-epoch checkpoints when asked)."""
    model = build_model(work)
    callback = FlagCallback(StepClock())
    with tempfile.TemporaryDirectory(prefix="bench-ckpt-") as tmp:
        # A fresh, missing directory each run: an existing checkpoint would make fit resume.
        checkpoint_dir = Path(tmp) / "checkpoint" if work.checkpoint else None
        trainer = Trainer(work.config, TaskKind.BINARY, [callback], checkpoint_dir)
        start = time.perf_counter()
        trainer.fit(model, work.train, work.val)
        elapsed = time.perf_counter() - start
    return Run(elapsed, callback.states[-1].train_loss, callback.clock)


def run_bare(work: Workload) -> Run:
    """A typical good hand-written loop doing the same work."""
    cfg = work.config
    model = build_model(work)
    clock = StepClock()
    start = time.perf_counter()
    device = cfg.device
    model.to(device)
    train, val = work.train.to(device), work.val.to(device)
    amp = cfg.mixed_precision and device.type == "cuda"
    scaler = torch.amp.GradScaler("cuda") if amp else None
    optimizer = torch.optim.AdamW(model.parameters(), lr=cfg.learning_rate, weight_decay=cfg.weight_decay)
    scheduler = torch.optim.lr_scheduler.ReduceLROnPlateau(optimizer, factor=0.5, patience=max(1, cfg.patience // 3))
    loss_fn = nn.CrossEntropyLoss().to(device)
    generator = torch.Generator().manual_seed(cfg.seed)
    n, bs = len(train), cfg.batch_size
    # Same batches as the product: a trailing batch of one row is dropped (BatchNorm needs two).
    bounds = [(i, min(i + bs, n)) for i in range(0, n, bs) if min(i + bs, n) - i > 1]
    train_loss = math.nan
    for _ in range(cfg.epochs):
        model.train()
        perm = torch.randperm(n, generator=generator).to(device)
        total = torch.zeros((), device=device)
        for lo, hi in bounds:
            clock.tick()
            idx = perm[lo:hi]
            optimizer.zero_grad(set_to_none=True)
            if amp:
                with torch.autocast("cuda", dtype=torch.float16):
                    loss = loss_fn(model(train.x_num[idx], train.x_cat[idx]).float(), train.y[idx])
                scaler.scale(loss).backward()
                scaler.unscale_(optimizer)
            else:
                loss = loss_fn(model(train.x_num[idx], train.x_cat[idx]), train.y[idx])
                loss.backward()
            if cfg.grad_clip:
                nn.utils.clip_grad_norm_(model.parameters(), cfg.grad_clip)
            if amp:
                scaler.step(optimizer)
                scaler.update()
            else:
                optimizer.step()
            total += loss.detach() * (hi - lo)
        train_loss = float(total) / bounds[-1][1]
        model.eval()
        with torch.no_grad():
            out = model(val.x_num, val.x_cat)
            val_loss = float(loss_fn(out, val.y))
            _accuracy = float((out.argmax(1) == val.y).float().mean())
        scheduler.step(val_loss)
        clock.epoch_end()
    return Run(time.perf_counter() - start, train_loss, clock)


SIDES = {"product": run_product, "bare": run_bare}


def measure(work: Workload, repeats: int) -> dict[str, list[Run]]:
    for fn in SIDES.values():  # warm-up: allocator, kernels, lazy imports (sklearn metrics)
        fn(work)
    results: dict[str, list[Run]] = {name: [] for name in SIDES}
    for r in range(repeats):
        order = list(SIDES) if r % 2 == 0 else list(reversed(SIDES))
        for name in order:
            results[name].append(SIDES[name](work))
    return results


def where_time_goes(results: dict[str, list[Run]]) -> None:
    """Median step and epoch-tail times of each side's fastest (least disturbed) run."""
    print("\nfastest run of each side:")
    print(f"{'side':<8} {'seconds':>8} {'median step ms':>15} {'median epoch tail ms':>21}")
    parts = {}
    for name, runs in results.items():
        run = min(runs, key=lambda r: r.seconds)
        parts[name] = (statistics.median(run.clock.step_intervals()), statistics.median(run.clock.tails))
        print(f"{name:<8} {run.seconds:>8.3f} {parts[name][0] * 1e3:>15.3f} {parts[name][1] * 1e3:>21.1f}")
    (p_step, p_tail), (b_step, b_tail) = parts["product"], parts["bare"]
    steps = len(results["bare"][0].clock.ticks[0])
    epoch = steps * b_step + b_tail
    print(
        f"product - bare: {1e6 * (p_step - b_step):+.1f} us per step ({100 * steps * (p_step - b_step) / epoch:+.1f}% "
        f"of an epoch), {1e3 * (p_tail - b_tail):+.1f} ms per epoch tail ({100 * (p_tail - b_tail) / epoch:+.1f}%)"
    )
    best = min(r.seconds for r in results["bare"]) / min(r.seconds for r in results["product"])
    print(f"ratio product/bare (fastest runs) = {best:.3f}")


def report(work: Workload, results: dict[str, list[Run]]) -> float:
    epochs = work.config.epochs
    samples = len(work.train) * epochs
    medians = {}
    print(f"{'side':<8} {'median samples/s':>16} {'median s':>9}  last train loss  runs (s)")
    for name, runs in results.items():
        secs = [run.seconds for run in runs]
        medians[name] = samples / statistics.median(secs)
        runs_txt = " ".join(f"{s:.2f}" for s in secs)
        loss = runs[-1].train_loss
        print(f"{name:<8} {medians[name]:>16,.0f} {statistics.median(secs):>9.3f}  {loss:<15.6f}  [{runs_txt}]")
    ratio = medians["product"] / medians["bare"]
    verdict = "PASS" if ratio >= TARGET_RATIO else "FAIL"
    print(f"\nratio product/bare (median samples/s) = {ratio:.3f}   target >= {TARGET_RATIO:.2f}   {verdict}")
    where_time_goes(results)
    spread = max(max(r.seconds for r in runs) / min(r.seconds for r in runs) for runs in results.values())
    if spread > 1.3:
        print(
            f"WARNING: slowest/fastest run of one side = {spread:.1f}x: other processes share the CPUs (load "
            f"average {os.getloadavg()[0]:.1f} on {os.cpu_count()} CPUs); the medians are not trustworthy, rerun "
            f"when the machine is quiet"
        )
    return ratio


def profile_product(work: Workload, top: int) -> None:
    """cProfile of one product fit, sorted by own time, to locate per-step overhead."""
    profiler = cProfile.Profile()
    profiler.enable()
    run_product(work)
    profiler.disable()
    print(f"\n--- cProfile of one Trainer.fit (top {top} by tottime) ---")
    pstats.Stats(profiler, stream=sys.stdout).sort_stats("tottime").print_stats(top)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--rows", type=int, default=50_000)
    parser.add_argument("--numeric", type=int, default=30)
    parser.add_argument("--epochs", type=int, default=2)
    parser.add_argument("--batch-size", type=int, default=256)
    parser.add_argument("--grad-clip", type=float, default=1.0, help="same on both sides; 0 disables")
    parser.add_argument("--repeats", type=int, default=5)
    parser.add_argument(
        "--checkpoint",
        action="store_true",
        help="product side also writes a checkpoint every epoch, as the Celery training service does",
    )
    parser.add_argument("--profile", action="store_true", help="also print a cProfile of one product fit")
    parser.add_argument("--gpu", action="store_true", help="both sides on CUDA with float16 mixed precision")
    args = parser.parse_args()

    print("$ " + shlex.join([".venv/bin/python", "benchmarks/train_overhead.py", *sys.argv[1:]]))
    try:
        work = make_workload(args.rows, args.numeric, args.epochs, args.batch_size, args.grad_clip, args.gpu)
    except DataError as err:
        parser.error(str(err))
    work.checkpoint = args.checkpoint
    cfg = work.config
    print(
        f"torch {torch.__version__}, threads {torch.get_num_threads()}, device {cfg.device}"
        f"{' (' + torch.cuda.get_device_name() + ', float16 autocast)' if cfg.gpu else ''}, "
        f"train {len(work.train):,} x ({args.numeric} num + {len(CARDINALITIES)} cat), val {len(work.val):,}, "
        f"hidden {cfg.hidden_sizes}, batch {cfg.batch_size}, epochs {cfg.epochs}, AdamW lr {cfg.learning_rate} "
        f"wd {cfg.weight_decay}, grad_clip {cfg.grad_clip}, schedule {cfg.lr_schedule}, early_stopping off, "
        f"product checkpoints {'every epoch' if args.checkpoint else 'off'}, "
        f"warm-up 1 + {args.repeats} interleaved repeats\n"
    )
    assert isinstance(loss_function(TaskKind.BINARY), nn.CrossEntropyLoss)  # the bare loop's loss
    report(work, measure(work, args.repeats))
    if args.profile:
        profile_product(work, 25)


if __name__ == "__main__":
    main()
