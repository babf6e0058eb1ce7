"""What one training step and one single-row prediction cost, per network, in one process.

- The first fused optimizer step of a process imports torch's compiler stack (``torch._dynamo``):
  timed here once, as the import itself, before anything else imports it.
- Training step (forward, backward, gradient clipping, AdamW) on a batch of 256 rows x 20 numeric
  columns, 2 threads: the MLP (``fast``) and TabM (``default``), AdamW as a per-parameter loop
  (the baseline) and fused; TabM also with dropout 0.1. Median ms per step over ``--repeats``
  rounds of ``--steps`` steps, each with its ratio to the baseline of the same network.
- Single-row forward pass (eval mode, 1 thread, as a serving process runs): median ms.

Run from the repository root::

    .venv/bin/python benchmarks/network_cost.py [--steps 200] [--repeats 5]
"""

from __future__ import annotations

import argparse
import shlex
import statistics
import sys
import time
from pathlib import Path

import numpy as np
import torch

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))

from neural.engine.config import TrainConfig
from neural.engine.networks import TabMNetwork, TabularMLP, numeric_bins
from neural.engine.presets import preset_options

ROWS, COLUMNS, BATCH = 5500, 20, 256


def networks(x: np.ndarray) -> dict[str, callable]:
    """name -> a fresh network (the presets' shapes, as training builds them for 20 numerics)."""
    default = TrainConfig.from_dict(preset_options("default")).for_task(True)
    fast = TrainConfig.from_dict(preset_options("fast")).for_task(True)
    embedded, bins = numeric_bins(x, list(range(COLUMNS)))

    def tabm(dropout: float):
        return lambda: TabMNetwork(
            COLUMNS,
            [],
            2,
            embedded=embedded,
            bins=bins,
            k=default.tabm_k,
            d_block=max(default.hidden_sizes),
            n_blocks=len(default.hidden_sizes),
            d_embedding=default.num_embedding_dim,
            dropout=dropout,
        )

    return {
        "mlp (fast)": lambda: TabularMLP(COLUMNS, [], fast.hidden_sizes, 2, fast.dropout, norm=fast.norm),
        "tabm (default)": tabm(default.dropout),
        "tabm, dropout 0.1": tabm(0.1),
    }


def step_ms(make, x: torch.Tensor, y: torch.Tensor, fused: bool, steps: int) -> float:
    torch.manual_seed(0)
    net = make().train()
    opt = torch.optim.AdamW(net.parameters(), lr=2e-3, fused=fused or None, foreach=False if not fused else None)
    empty = torch.zeros((BATCH, 0), dtype=torch.long)

    def one() -> None:
        opt.zero_grad(set_to_none=True)
        out = net(x, empty)
        if out.dim() == 3:  # TabM in training mode: one prediction per member
            out = out.flatten(0, 1)
        target = y.repeat_interleave(out.shape[0] // BATCH)
        torch.nn.functional.cross_entropy(out, target).backward()
        torch.nn.utils.clip_grad_norm_(net.parameters(), 1.0, foreach=fused)
        opt.step()

    for _ in range(10):
        one()
    started = time.perf_counter()
    for _ in range(steps):
        one()
    return (time.perf_counter() - started) / steps * 1000


def forward_ms(make, row: torch.Tensor, n: int = 2000) -> float:
    net = make().eval()
    empty = torch.zeros((1, 0), dtype=torch.long)
    with torch.inference_mode():
        for _ in range(100):
            net(row, empty)
        started = time.perf_counter()
        for _ in range(n):
            net(row, empty)
    return (time.perf_counter() - started) / n * 1000


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--steps", type=int, default=200)
    parser.add_argument("--repeats", type=int, default=5)
    args = parser.parse_args()
    started = time.perf_counter()
    import torch._dynamo

    print(
        f"import torch._dynamo (once per process, on the first optimizer step): {time.perf_counter() - started:.2f} s"
    )
    rng = np.random.default_rng(0)
    x = rng.normal(size=(ROWS, COLUMNS)).astype(np.float32)
    batch, labels = torch.from_numpy(x[:BATCH]), torch.from_numpy(rng.integers(0, 2, BATCH))
    nets = networks(x)
    torch.set_num_threads(2)
    print(
        f"training step, batch {BATCH} x {COLUMNS} numerics, 2 threads, median of {args.repeats} x {args.steps} steps:"
    )
    variants = [(name, fused) for name in nets for fused in (False, True)]
    times: dict[tuple[str, bool], list[float]] = {v: [] for v in variants}
    for _ in range(args.repeats):  # alternating, so that a change of load hits every variant
        for name, fused in variants:
            times[(name, fused)].append(step_ms(nets[name], batch, labels, fused, args.steps))
    base = statistics.median(times[("mlp (fast)", False)])
    for name, fused in variants:
        ms = statistics.median(times[(name, fused)])
        own = statistics.median(times[(name, False)])
        print(
            f"  {name:<18} AdamW {'fused' if fused else 'loop ':<5} {ms:6.2f} ms/step  "
            f"x {ms / own:4.2f} of its loop AdamW, x {ms / base:4.2f} of the MLP's"
        )
    torch.set_num_threads(1)
    row = batch[:1]
    print(f"single-row forward pass, eval mode, 1 thread, median of {args.repeats} x 2000 (alternating):")
    forward = {name: [] for name in nets}
    for _ in range(args.repeats):
        for name, make in nets.items():
            forward[name].append(forward_ms(make, row))
    for name, ms in forward.items():
        print(f"  {name:<18} {statistics.median(ms):6.3f} ms")
    print("command: " + shlex.join([".venv/bin/python", *sys.argv]))


if __name__ == "__main__":
    main()
