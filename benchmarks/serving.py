"""Serving speed over HTTP, against the same predictions made in-process.

Sets up the production way: PostgreSQL (its own database, ``photondrift_bench``), Redis
(db 14), migrations, a generated coordination data set, one trained model, a user token; then
starts ``uvicorn photondrift.asgi:application --workers 2`` and measures with keep-alive
``http.client`` connections:

- single-row ``POST /api/v1/neural/predict``: p50 / p99 latency over N requests (after warm-up);
- ``POST /api/v1/neural/predict/batch`` with 10,000 rows: rows per second (median of repeats), sent
  back to back, then each on an idle server (once the previous batches' log rows are written);
- in the benchmark's own process, on the same 10,000 records: the product's predict path
  (validate + transform + forward) and the bare network forward pass on pre-built tensors,
  before and after the HTTP runs (the load of a shared machine drifts).

Both sides use one torch thread per process (``OMP_NUM_THREADS=1`` for the two uvicorn workers
on this 2-core machine, ``torch.set_num_threads(1)`` in-process). Times stop when the response
body has been read; decoding it is the client's work and is done outside the clock. Every
prediction is logged as in production (the log writer's COPY runs on the server meanwhile); the
rows found in the prediction log afterwards are printed as a check.

Run from the repository root::

    .venv/bin/python benchmarks/serving.py [--requests 2000] [--rows 10000] [--repeats 5]
"""

from __future__ import annotations

import argparse
import http.client
import json
import os
import shlex
import socket
import statistics
import subprocess
import sys
import tempfile
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
PY = sys.executable


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


def manage(env: dict, *args: str) -> str:
    out = subprocess.run([PY, "manage.py", *args], cwd=ROOT, env=env, capture_output=True, text=True)
    if out.returncode != 0:
        raise SystemExit(f"manage.py {' '.join(args)} failed:\n{out.stderr[-2000:]}")
    return out.stdout


def setup(env: dict, preset: str | None = None) -> tuple[str, list[dict]]:
    subprocess.run(["dropdb", "-h", "127.0.0.1", "-U", "postgres", "--if-exists", "photondrift_bench"], check=True)
    subprocess.run(["createdb", "-h", "127.0.0.1", "-U", "postgres", "photondrift_bench"], check=True)
    manage(env, "migrate", "--noinput")
    manage(env, "data", "generate", "--pattern", "coordination", "--rows", "4000", "--name", "bench", "--seed", "7")
    manage(env, "training", "neural-train", "--pattern", "coordination", "--data", "bench", "--epochs", "8",
           "--wait", "--model-name", "bench", "--json", *(["--preset", preset] if preset else []))  # fmt: skip
    user = "from django.contrib.auth.models import User; User.objects.create_user('bench', password='x')"
    manage(env, "shell", "-c", user)
    token = manage(env, "neural", "token", "--user", "bench").strip()
    code = (
        "import json; from neural.datasets.models import Dataset;"
        "from neural.datasets.services import dataset_load_frame;"
        "d = Dataset.objects.get(name='bench'); f = dataset_load_frame(d);"
        "cols = [c['name'] for c in d.schema if not c['excluded'] and c['name'] != d.target];"
        "print(f[cols].to_json(orient='records', date_format='iso'))"
    )
    records = json.loads(manage(env, "shell", "-c", code).strip().splitlines()[-1])
    return token, records


def wait_up(port: int, proc: subprocess.Popen, timeout: float = 60) -> None:
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        if proc.poll() is not None:
            raise SystemExit(f"uvicorn exited with {proc.returncode}")
        try:
            conn = http.client.HTTPConnection("127.0.0.1", port, timeout=2)
            conn.request("GET", "/healthz")
            if conn.getresponse().status in (200, 503):
                return
        except OSError:
            time.sleep(0.3)
    raise SystemExit("uvicorn did not answer /healthz in time")


def post(conn: http.client.HTTPConnection, path: str, body: bytes, token: str) -> bytes:
    conn.request("POST", path, body, {"Content-Type": "application/json", "Authorization": f"Token {token}"})
    res = conn.getresponse()
    data = res.read()
    if res.status != 200:
        raise SystemExit(f"{path} answered {res.status}: {data[:300]!r}")
    return data


def load() -> str:
    return "load average " + " ".join(f"{x:.2f}" for x in os.getloadavg()) + f" on {os.cpu_count()} cores"


def logged_rows(env: dict) -> int:
    import psycopg

    with psycopg.connect(env["DATABASE_URL"]) as conn:
        return conn.execute("SELECT count(*) FROM monitoring_predictionlog").fetchone()[0]


def wait_logged(env: dict, rows: int, timeout: float = 60) -> None:
    """Until the server's log writers have written ``rows`` rows: the server is idle again."""
    deadline = time.monotonic() + timeout
    while logged_rows(env) < rows:
        if time.monotonic() > deadline:
            raise SystemExit(f"the prediction log did not reach {rows} rows in {timeout:.0f} s")
        time.sleep(0.05)


def single_rows(conns: list, frame: list[dict], token: str, requests: int, warmup: int) -> list[float]:
    """Latencies (ms) of ``requests`` single-row predictions on one keep-alive connection."""
    bodies = [json.dumps({"model": "bench", "input": r}).encode() for r in frame[:500]]
    for i in range(warmup):  # both workers load the model
        post(conns[i % 2], "/api/v1/neural/predict", bodies[i % len(bodies)], token)
    latencies = []
    for i in range(requests):
        started = time.perf_counter()
        answer = post(conns[0], "/api/v1/neural/predict", bodies[i % len(bodies)], token)
        latencies.append((time.perf_counter() - started) * 1000)
        assert "prediction_id" in json.loads(answer)
    return latencies


def batches(conn, body: bytes, token: str, rows: int, repeats: int, settle=None) -> list[float]:
    """Seconds per batch request; ``settle(i)``, when given, runs before the i-th (not timed)."""
    times = []
    for i in range(repeats):
        if settle is not None:
            settle(i)
        started = time.perf_counter()
        answer = post(conn, "/api/v1/neural/predict/batch", body, token)
        times.append(time.perf_counter() - started)
        assert len(json.loads(answer)["predictions"]) == rows
    return times


def pct(values: list[float], q: float) -> float:
    ordered = sorted(values)
    return ordered[min(len(ordered) - 1, round(q * (len(ordered) - 1)))]


def in_process(env: dict, records: list[dict], repeats: int) -> tuple[list[float], list[float], list[float]]:
    """Seconds per call of the product's predict path, of the bare forward pass, and of writing
    the log rows of those predictions (the server's writer does this after each batch; rolled
    back here), in this process."""
    os.environ.update(env)
    sys.path.insert(0, str(ROOT))
    import django

    django.setup()
    import torch
    from django.db import transaction

    from neural.engine.fastpath import FastPredictor
    from neural.engine.predictor import load_predictor
    from neural.registry.selectors import model_version_resolve
    from neural.registry.storage import version_dir
    from neural.serving.logwriter import LogBatch, new_ids, write_batches

    torch.set_num_threads(1)
    version = model_version_resolve(ref="bench")
    fast = FastPredictor(load_predictor(version_dir(version.artifact_path)))
    x_num, x_cat = (torch.from_numpy(a) for a in fast.transform(records))
    path_times, forward_times, log_times = [], [], []
    outputs = [
        {"prediction": v, "probabilities": {"False": 0.25, "True": 0.75}, "score": 0.75} for v in [True] * len(records)
    ]
    for _ in range(repeats):
        started = time.perf_counter()
        fast.predict_records(records)
        path_times.append(time.perf_counter() - started)
        started = time.perf_counter()
        with torch.inference_mode():
            torch.softmax(fast.predictor.network(x_num, x_cat), dim=1)
        forward_times.append(time.perf_counter() - started)
        batch = LogBatch(version_id=version.pk, ids=new_ids(len(records)), inputs=records, outputs=outputs)
        with transaction.atomic():
            started = time.perf_counter()
            write_batches([batch])
            log_times.append(time.perf_counter() - started)
            transaction.set_rollback(True)
    return path_times, forward_times, log_times


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--requests", type=int, default=2000)
    parser.add_argument("--rows", type=int, default=10_000)
    parser.add_argument("--repeats", type=int, default=5)
    parser.add_argument("--preset", choices=("fast", "default"), help="the served network (default: no preset)")
    args = parser.parse_args()
    home = Path(tempfile.mkdtemp(prefix="photondrift-bench-"))
    env = {
        **os.environ,
        "DJANGO_SETTINGS_MODULE": "photondrift.settings",
        "DATABASE_URL": "postgres://postgres@127.0.0.1:5432/photondrift_bench",
        "REDIS_URL": "redis://127.0.0.1:6379/14",
        "PHOTONDRIFT_HOME": str(home),
        "PREDICT_THROTTLE_RATE": "1000000/min",  # measure the server, not its throttle
        "DJANGO_HTTPS": "false",  # plain HTTP on loopback
        "DJANGO_SECRET_KEY": "bench-only-secret-key-0123456789abcdefghijklmnopqrstuvwxyz",
        "DJANGO_ALLOWED_HOSTS": "127.0.0.1,localhost",
        "DJANGO_DEBUG": "false",
        "PREDICT_BATCH_MAX": str(max(args.rows, 10_000)),
    }
    print("setting up (PostgreSQL database photondrift_bench, Redis db 14, training one model)...", file=sys.stderr)
    token, frame = setup(env, args.preset)
    records = (frame * (args.rows // len(frame) + 1))[: args.rows]
    port = free_port()
    # uvloop and httptools named, not "auto": a missing one fails here instead of measuring asyncio + h11.
    cmd = [PY, "-m", "uvicorn", "photondrift.asgi:application", "--workers", "2", "--port", str(port),
           "--loop", "uvloop", "--http", "httptools", "--log-level", "warning", "--no-access-log"]  # fmt: skip
    # In-process figures before and after the HTTP runs: the machine's load drifts meanwhile.
    local = in_process(env, records, args.repeats)
    server = subprocess.Popen(cmd, cwd=ROOT, env={**env, "OMP_NUM_THREADS": "1"})
    load_before = load()
    try:
        wait_up(port, server)
        conns = [http.client.HTTPConnection("127.0.0.1", port, timeout=60) for _ in range(2)]
        warmup = 200
        latencies = single_rows(conns, frame, token, args.requests, warmup)
        batch = json.dumps({"model": "bench", "inputs": records}).encode()
        # A fresh connection: uvicorn closes one idle for 5 s, as the second one was meanwhile.
        conns[1] = http.client.HTTPConnection("127.0.0.1", port, timeout=120)
        post(conns[1], "/api/v1/neural/predict/batch", batch, token)
        sustained = batches(conns[1], batch, token, args.rows, args.repeats)
        # The same batches, each sent once the previous ones' log rows are written (an idle server).
        done = warmup + args.requests + args.rows * (args.repeats + 1)
        settled = batches(conns[1], batch, token, args.rows, args.repeats,
                          settle=lambda i: wait_logged(env, done + args.rows * i))  # fmt: skip
    finally:
        server.terminate()  # uvicorn shuts down gracefully: the log writers flush at exit
        server.wait(30)
    load_after = load()
    expected_logs = done + args.rows * args.repeats
    path_times, forward_times, log_times = (
        a + b for a, b in zip(local, in_process(env, records, args.repeats), strict=True)
    )
    local_rows = (args.rows / statistics.median(path_times), args.rows / statistics.median(forward_times))
    report(args, latencies, sustained, settled, local_rows)
    print(f"in-process log write of the same {args.rows} predictions (one COPY, rolled back): "
          f"{statistics.median(log_times) * 1000:.0f} ms (median of {2 * args.repeats})")  # fmt: skip
    print(f"machine: {load_before} before the HTTP runs, {load_after} after")
    print(f"prediction log rows written by the server: {logged_rows(env):,} of {expected_logs:,} predictions")


def report(args, latencies: list[float], sustained: list[float], settled: list[float], local) -> None:
    path_rows, forward_rows = local
    p50, p99 = pct(latencies, 0.50), pct(latencies, 0.99)
    print(f"command: {shlex.join([PY, *sys.argv])}")
    print(f"single-row predict over HTTP ({args.requests} keep-alive requests): p50 {p50:.2f} ms, p99 {p99:.2f} ms"
          f" (targets 5 / 20 ms)")  # fmt: skip
    print(f"in-process predict path (validate + transform + forward), {args.rows} rows: {path_rows:,.0f} rows/s"
          f" (median of {args.repeats} before and {args.repeats} after the HTTP runs)")  # fmt: skip
    print(f"in-process bare forward pass on pre-built tensors, same rows: {forward_rows:,.0f} rows/s")
    for label, times in (("back to back", sustained), ("each on an idle server", settled)):
        rows = args.rows / statistics.median(times)
        print(f"batch predict over HTTP, {args.rows} rows, {label}: {rows:,.0f} rows/s (median of {args.repeats});"
              f" ratio to the in-process path {rows / path_rows:.2f} (target >= 0.5),"
              f" to the bare forward pass {rows / forward_rows:.3f}")  # fmt: skip


if __name__ == "__main__":
    main()
