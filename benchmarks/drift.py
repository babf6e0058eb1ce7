"""Drift check speed: 1,000,000 rows x 50 features against a stored reference profile.

Our check (neural.engine.drift.compare: numpy searchsorted/bincount, PSI + Jensen–Shannon per
feature) on the full million rows, and Evidently's DataDriftPreset (the anchor; install it with
`pip install -r benchmarks/requirements-bench.txt`) on a 100,000-row slice; both are also timed
on that same 100,000-row slice so the ratio compares equal rows.

    .venv/bin/python benchmarks/drift.py
"""

from __future__ import annotations

import sys
import time
from pathlib import Path

import numpy as np
import pandas as pd

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))

from neural.engine.drift import build_profile, compare
from neural.engine.schema import ColumnKind, ColumnSpec

ROWS, REF_ROWS, NUMERIC, CATEGORICAL, SLICE = 1_000_000, 200_000, 35, 15, 100_000


def make_frame(rows: int, rng: np.random.Generator, shift: float) -> pd.DataFrame:
    cols = {f"num_{i}": rng.normal(shift * (i % 3 == 0), 1 + i / 50, rows) for i in range(NUMERIC)}
    levels = np.array([f"level_{j}" for j in range(12)])
    for i in range(CATEGORICAL):
        p = np.linspace(1, 2 + shift * (i % 2), 12)
        cols[f"cat_{i}"] = levels[rng.choice(12, rows, p=p / p.sum())]
    return pd.DataFrame(cols)


def main() -> None:
    rng = np.random.default_rng(0)
    specs = [ColumnSpec(f"num_{i}", ColumnKind.NUMERIC) for i in range(NUMERIC)]
    specs += [ColumnSpec(f"cat_{i}", ColumnKind.CATEGORICAL) for i in range(CATEGORICAL)]
    reference = make_frame(REF_ROWS, rng, 0.0)
    current = make_frame(ROWS, rng, 0.5)
    profile = build_profile(reference, specs)

    started = time.perf_counter()
    results = compare(profile, current)
    ours_full = time.perf_counter() - started
    drifted = sum(r.drifted for r in results)
    print(f"ours: {ROWS:,} rows x {len(results)} features in {ours_full:.2f} s ({drifted} features drifted)")

    part = current.iloc[:SLICE]
    started = time.perf_counter()
    compare(profile, part)
    ours_slice = time.perf_counter() - started
    print(f"ours: {SLICE:,} rows x {len(results)} features in {ours_slice:.3f} s")

    try:
        from evidently import Report
        from evidently.presets import DataDriftPreset
    except ImportError as exc:
        print(f"evidently: cannot import ({exc}); no anchor figure. See benchmarks/requirements-bench.txt")
        return
    started = time.perf_counter()
    Report([DataDriftPreset()]).run(current_data=part, reference_data=reference.iloc[:SLICE])
    evidently_slice = time.perf_counter() - started
    print(f"evidently DataDriftPreset: {SLICE:,} rows x {part.shape[1]} features in {evidently_slice:.2f} s")
    print(f"ratio at {SLICE:,} rows: evidently / ours = {evidently_slice / ours_slice:.1f}x")


if __name__ == "__main__":
    print("command: .venv/bin/python benchmarks/drift.py")
    main()
