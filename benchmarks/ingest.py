"""Import speed and memory: the product's ingest path against plain ``pandas.read_csv`` + ``to_parquet``.

The product side is everything ``data import`` does to a CSV except the one database INSERT:
detect the format, stream the CSV block by block into the canonical Parquet form (atomic write,
SHA-256), infer the task and the schema (with identifier flags) and compute the full quality
report a column at a time from the stored file. The plain side reads the same file with
``pandas.read_csv`` and writes Parquet with ``DataFrame.to_parquet``. Both run in this process on
the same file, interleaved, after one warm-up each; the median of each side and the ratio
product / plain are printed, with the machine's load (other people's tests run here too), and
the median wall and CPU seconds of each part (the product's parse + write and its profile).

Peak memory: each side runs once more in a fresh interpreter that reports its peak resident set
(``ru_maxrss``) and its resident set after the imports, before reading the file; the difference
is what the work itself needed, printed as a multiple of the CSV's size.

Run from the repository root::

    .venv/bin/python benchmarks/ingest.py [--rows 1000000] [--repeats 3] [--no-memory]
"""

from __future__ import annotations

import argparse
import json
import os
import resource
import shlex
import statistics
import subprocess
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


def _cpu_s() -> float:
    """CPU time of this process so far, user + system, every thread."""
    usage = resource.getrusage(resource.RUSAGE_SELF)
    return usage.ru_utime + usage.ru_stime


def plain(path: Path, out: Path, phases: dict | None = None) -> float:
    started, cpu = time.perf_counter(), _cpu_s()
    pd.read_csv(path).to_parquet(out)
    elapsed = time.perf_counter() - started
    if phases is not None:
        phases.setdefault("plain read_csv + to_parquet", []).append((elapsed, _cpu_s() - cpu))
    return elapsed


def product(path: Path, phases: dict | None = None) -> float:
    """The import; ``phases`` (when given) gets (wall, CPU) seconds of its two parts."""
    from neural.datasets import storage
    from neural.datasets.importers import open_importer
    from neural.datasets.services import _profile

    started, cpu = time.perf_counter(), _cpu_s()
    importer = open_importer(path)
    relative = f"bench/{time.monotonic_ns()}.parquet"
    written, _, _, _ = importer.stream(
        path, lambda schema, batches: storage.write_parquet_batches(schema, batches, relative)
    )
    streamed, streamed_cpu = time.perf_counter(), _cpu_s()
    _profile(storage.ParquetColumns(written), target="flag", overrides=None)
    elapsed = time.perf_counter() - started
    if phases is not None:
        phases.setdefault("product parse + write + SHA-256", []).append((streamed - started, streamed_cpu - cpu))
        phases.setdefault("product schema + quality report", []).append(
            (time.perf_counter() - streamed, _cpu_s() - streamed_cpu)
        )
    written.unlink()
    return elapsed


def _status_mb(key: str) -> float:
    with open("/proc/self/status") as fh:
        line = next(ln for ln in fh if ln.startswith(key + ":"))
    return int(line.split()[1]) / 1e3  # kB


def measure_memory(side: str, path: Path) -> None:
    """In a fresh interpreter: resident set before the work and its peak during the work, as JSON.

    The peak is the kernel's high-water mark (VmHWM), reset once the imports are done: ru_maxrss
    would carry the parent's figure across fork + exec."""
    import django
    import pyarrow.csv
    import pyarrow.parquet  # noqa: F401
    from django.conf import settings

    django.setup()
    from neural.datasets import services  # noqa: F401

    settings.DATASET_STORAGE_PATH = path.parent / "datasets-mem"
    with open("/proc/self/clear_refs", "w") as fh:
        fh.write("5")  # reset VmHWM to the current resident set
    before = _status_mb("VmRSS")
    if side == "plain":
        plain(path, path.parent / "mem.parquet")
    else:
        product(path)
    print(json.dumps({"before_mb": before, "peak_mb": _status_mb("VmHWM")}))


def memory(side: str, path: Path) -> dict:
    out = subprocess.run(
        [sys.executable, __file__, "--measure-memory", side, str(path)], check=True, capture_output=True, text=True
    ).stdout
    return json.loads(out.strip().splitlines()[-1])


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--rows", type=int, default=1_000_000)
    parser.add_argument("--repeats", type=int, default=3)
    parser.add_argument("--no-memory", action="store_true", help="skip the peak-memory runs")
    parser.add_argument("--measure-memory", nargs=2, metavar=("SIDE", "CSV"), help=argparse.SUPPRESS)
    args = parser.parse_args()
    if args.measure_memory:
        measure_memory(args.measure_memory[0], Path(args.measure_memory[1]))
        return

    import django
    from django.conf import settings

    django.setup()
    print("command:", shlex.join([".venv/bin/python", "benchmarks/ingest.py", *sys.argv[1:]]))
    print("load before:", _uptime())
    with tempfile.TemporaryDirectory() as tmp:
        settings.DATASET_STORAGE_PATH = Path(tmp) / "datasets"
        path = Path(tmp) / "ingest.csv"
        make_csv(path, args.rows)
        size_mb = path.stat().st_size / 1e6
        print(f"file: {args.rows} rows x 30 columns, {size_mb:.1f} MB CSV")
        plain(path, Path(tmp) / "warm.parquet")
        product(path)
        times: dict[str, list[float]] = {"plain": [], "product": []}
        phases: dict[str, list[tuple[float, float]]] = {}
        for i in range(args.repeats):
            order = ["plain", "product"] if i % 2 == 0 else ["product", "plain"]
            for side in order:
                times[side].append(
                    plain(path, Path(tmp) / "p.parquet", phases) if side == "plain" else product(path, phases)
                )
        p, q = statistics.median(times["plain"]), statistics.median(times["product"])
        print(
            f"plain pandas read_csv + to_parquet: median {p:.2f} s  ({args.rows / p:,.0f} rows/s)  "
            f" runs {[round(t, 2) for t in times['plain']]}"
        )
        print(
            f"product ingest (stream to Parquet, SHA-256, schema, quality report): median {q:.2f} s"
            f"  runs {[round(t, 2) for t in times['product']]}"
        )
        print(f"ratio product / plain: {q / p:.2f}x  (target <= 1.5x)")
        for name, runs in phases.items():
            wall, cpu = (statistics.median(r[i] for r in runs) for i in (0, 1))
            print(f"  {name}: median wall {wall:.2f} s, CPU (user + system, all threads) {cpu:.2f} s")
        print("load after:", _uptime())
        if not args.no_memory:
            for side in ("plain", "product"):
                m = memory(side, path)
                work = m["peak_mb"] - m["before_mb"]
                print(
                    f"peak memory, {side}: {m['peak_mb']:.0f} MB resident, {work:.0f} MB above the"
                    f" {m['before_mb']:.0f} MB after imports = {work / size_mb:.2f}x the CSV"
                )


def _uptime() -> str:
    try:
        return subprocess.run(["uptime"], capture_output=True, text=True, check=True).stdout.strip()
    except (OSError, subprocess.CalledProcessError):
        return f"load average {os.getloadavg()[0]:.1f} on {os.cpu_count()} CPUs"


if __name__ == "__main__":
    main()
