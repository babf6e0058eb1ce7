"""Data-parallel training (``--parallel --workers N``) against one process, same data and seed.

Both sides train the product's default network through ``train_tabular`` on the same generator
rows, with the same config (early stopping off, so both run every epoch); the parallel side adds
``parallel: true, workers: N``. Printed per side: the wall time of the whole call (with, for the
parallel side, starting N interpreters and the rendezvous), the median epoch time (rank 0's, the
training alone), the final validation loss and test accuracy (they should agree within the noise
of dropout), and the ratios one process / N processes (above 1: N processes are faster).

On the 2-core development machine this says nothing about speed (two processes share two busy
cores); run it on a machine with 8+ cores, or with ``--gpu`` on a GPU (several processes share
one GPU through gloo; nccl needs one GPU per process).

Run from the repository root::

    .venv/bin/python benchmarks/parallel_training.py [--workers 2] [--rows 20000] [--epochs 5] [--gpu]
"""

from __future__ import annotations

import argparse
import os
import shlex
import statistics
import sys
import time
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))

from neural.datasets.generator import generate
from neural.engine.config import TrainConfig
from neural.engine.pipeline import train_tabular


def run(df, target: str, config: TrainConfig) -> dict:
    started = time.perf_counter()
    trained = train_tabular(df, target, config=config)
    wall = time.perf_counter() - started
    return {
        "wall_s": wall,
        "epoch_s": statistics.median(e["epoch_time_s"] for e in trained.fit.history),
        "val_loss": trained.fit.history[-1]["val_loss"],
        "test_accuracy": trained.test_metrics.get("accuracy", float("nan")),
    }


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--workers", type=int, default=2)
    parser.add_argument("--rows", type=int, default=20_000)
    parser.add_argument("--epochs", type=int, default=5)
    parser.add_argument("--batch-size", type=int, default=256)
    parser.add_argument("--pattern", default="coordination")
    parser.add_argument("--gpu", action="store_true")
    args = parser.parse_args()
    print("command:", shlex.join([sys.executable, *sys.argv]), f"| {os.cpu_count()} CPU cores")
    df, target = generate(pattern=args.pattern, rows=args.rows, seed=1)
    base = {"epochs": args.epochs, "early_stopping": False, "batch_size": args.batch_size, "gpu": args.gpu}
    one = run(df, target, TrainConfig(**base))
    many = run(df, target, TrainConfig(**base, parallel=True, workers=args.workers))
    print(f"{'':>12} {'wall s':>8} {'epoch s':>8} {'val loss':>9} {'test acc':>9}")
    for name, row in (("1 process", one), (f"{args.workers} processes", many)):
        print(
            f"{name:>12} {row['wall_s']:8.2f} {row['epoch_s']:8.3f} {row['val_loss']:9.4f} {row['test_accuracy']:9.4f}"
        )
    print(
        f"speed-up (1 / {args.workers}): wall {one['wall_s'] / many['wall_s']:.2f}x, "
        f"per epoch {one['epoch_s'] / many['epoch_s']:.2f}x"
    )


if __name__ == "__main__":
    main()
