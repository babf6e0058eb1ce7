"""Import speed: the product's ingest path against plain ``pandas.read_csv`` + ``to_parquet``.

The product side is everything ``data import`` does to a CSV except the one database INSERT:
detect the format, read (delimiter and encoding sniffed), infer the task and the schema (with
identifier flags), compute the full quality report, write the canonical Parquet form atomically
and hash it. The plain side reads the same file with ``pandas.read_csv`` and writes Parquet with
``DataFrame.to_parquet``. Both run in this process on the same file, interleaved, after one
warm-up each; the median of each side and the ratio product / plain are printed.

Run from the repository root::

    .venv/bin/python benchmarks/ingest.py [--rows 1000000] [--repeats 3]
"""

from __future__ import annotations

import argparse
import os
import shlex
import statistics
import sys
import tempfile
import time
from pathlib import Path

import numpy as np
import pandas as pd

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))
os.environ.setdefault("DJANGO_SETTINGS_MODULE", "photondrift.settings.test")


def make_csv(path: Path, rows: int, seed: int = 0) -> None:
    """30 columns: 20 floats, 5 integers, 3 categories, 1 boolean, 1 timestamp; 2% missing floats."""
    rng = np.random.default_rng(seed)
    cols = {f"f{i}": rng.normal(i, 1 + i, rows).round(4) for i in range(20)}
    for i in range(2):
        cols[f"f{i}"][rng.random(rows) < 0.02] = np.nan
    cols |= {f"n{i}": rng.integers(0, 50 * (i + 1), rows) for i in range(5)}
    cols |= {f"c{i}": rng.choice([f"v{j}" for j in range(4 + 3 * i)], rows) for i in range(3)}
    cols["flag"] = rng.random(rows) < 0.3
    cols["ts"] = (
        pd.Timestamp("2026-01-01") + pd.to_timedelta(np.sort(rng.integers(0, 86400 * 30, rows)), unit="s")
    ).strftime("%Y-%m-%dT%H:%M:%SZ")
    pd.DataFrame(cols).to_csv(path, index=False)


def plain(path: Path, out: Path) -> float:
    started = time.perf_counter()
    pd.read_csv(path).to_parquet(out)
    return time.perf_counter() - started


def product(path: Path) -> float:
    from neural.datasets import storage
    from neural.datasets.importers import read_file
    from neural.datasets.quality import quality_report
    from neural.datasets.services import build_schema
    from neural.engine.schema import infer_task

    started = time.perf_counter()
    df, _ = read_file(path)
    infer_task(df["flag"])
    schema = build_schema(df, "flag")
    quality_report(df, target="flag", schema=schema)
    written, _, _ = storage.write_parquet(df, f"bench/{time.monotonic_ns()}.parquet")
    elapsed = time.perf_counter() - started
    written.unlink()
    return elapsed


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--rows", type=int, default=1_000_000)
    parser.add_argument("--repeats", type=int, default=3)
    args = parser.parse_args()

    import django
    from django.conf import settings

    django.setup()
    with tempfile.TemporaryDirectory() as tmp:
        settings.DATASET_STORAGE_PATH = Path(tmp) / "datasets"
        path = Path(tmp) / "ingest.csv"
        make_csv(path, args.rows)
        size_mb = path.stat().st_size / 1e6
        print(f"file: {args.rows} rows x 30 columns, {size_mb:.1f} MB CSV")
        plain(path, Path(tmp) / "warm.parquet")
        product(path)
        times: dict[str, list[float]] = {"plain": [], "product": []}
        for i in range(args.repeats):
            order = ["plain", "product"] if i % 2 == 0 else ["product", "plain"]
            for side in order:
                times[side].append(plain(path, Path(tmp) / "p.parquet") if side == "plain" else product(path))
        p, q = statistics.median(times["plain"]), statistics.median(times["product"])
        print(
            f"plain pandas read_csv + to_parquet: median {p:.2f} s  ({args.rows / p:,.0f} rows/s)  "
            f" runs {times['plain']}"
        )
        print(
            f"product ingest (read, schema, quality report, Parquet, SHA-256): median {q:.2f} s"
            f"  runs {times['product']}"
        )
        print(f"ratio product / plain: {q / p:.2f}x  (target <= 1.5x)")
        print(f"load average at the end: {os.getloadavg()[0]:.1f} on {os.cpu_count()} CPUs")
        print("command:", shlex.join([".venv/bin/python", "benchmarks/ingest.py", *sys.argv[1:]]))


if __name__ == "__main__":
    main()
