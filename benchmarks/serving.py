"""Serving speed over HTTP, against the same predictions made in-process.

Sets up the production way: PostgreSQL (its own database, ``photondrift_bench``), Redis
(db 14), migrations, a generated coordination data set, one trained model, a user token; then
starts ``uvicorn photondrift.asgi:application --workers 2`` and measures with keep-alive
``http.client`` connections:

- single-row ``POST /api/v1/neural/predict``: p50 / p99 latency over N requests (after warm-up);
- ``POST /api/v1/neural/predict/batch`` with 10,000 rows: rows per second (median of repeats);
- in the benchmark's own process, on the same 10,000 records: the product's predict path
  (validate + transform + forward) and the bare network forward pass on pre-built tensors.

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


def setup(env: dict) -> tuple[str, list[dict]]:
    subprocess.run(["dropdb", "-h", "127.0.0.1", "-U", "postgres", "--if-exists", "photondrift_bench"], check=True)
    subprocess.run(["createdb", "-h", "127.0.0.1", "-U", "postgres", "photondrift_bench"], check=True)
    manage(env, "migrate", "--noinput")
    manage(env, "data", "generate", "--pattern", "coordination", "--rows", "4000", "--name", "bench", "--seed", "7")
    manage(env, "training", "neural-train", "--pattern", "coordination", "--data", "bench", "--epochs", "8",
           "--wait", "--model-name", "bench", "--json")  # fmt: skip
    user = "from django.contrib.auth.models import User; User.objects.create_user('bench', password='x')"
    manage(env, "shell", "-c", user)
    token = manage(env, "drf_create_token", "bench").split()[2]
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


def post(conn: http.client.HTTPConnection, path: str, body: bytes, token: str) -> dict:
    conn.request("POST", path, body, {"Content-Type": "application/json", "Authorization": f"Token {token}"})
    res = conn.getresponse()
    data = res.read()
    if res.status != 200:
        raise SystemExit(f"{path} answered {res.status}: {data[:300]!r}")
    return json.loads(data)


def pct(values: list[float], q: float) -> float:
    ordered = sorted(values)
    return ordered[min(len(ordered) - 1, round(q * (len(ordered) - 1)))]


def in_process(env: dict, records: list[dict], repeats: int) -> tuple[float, float]:
    """Rows/s of the product's predict path and of the bare forward pass, in this process."""
    os.environ.update(env)
    sys.path.insert(0, str(ROOT))
    import django

    django.setup()
    import torch

    from neural.engine.fastpath import FastPredictor
    from neural.registry.selectors import model_version_resolve
    from neural.registry.serving import load_predictor
    from neural.registry.storage import version_dir

    torch.set_num_threads(1)
    version = model_version_resolve(ref="bench")
    fast = FastPredictor(load_predictor(version_dir(version.artifact_path)))
    x_num, x_cat = (torch.from_numpy(a) for a in fast.transform(records))
    path_times, forward_times = [], []
    for _ in range(repeats):
        started = time.perf_counter()
        fast.predict_records(records)
        path_times.append(time.perf_counter() - started)
        started = time.perf_counter()
        with torch.inference_mode():
            torch.softmax(fast.predictor.network(x_num, x_cat), dim=1)
        forward_times.append(time.perf_counter() - started)
    return len(records) / statistics.median(path_times), len(records) / statistics.median(forward_times)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--requests", type=int, default=2000)
    parser.add_argument("--rows", type=int, default=10_000)
    parser.add_argument("--repeats", type=int, default=5)
    args = parser.parse_args()
    home = Path(tempfile.mkdtemp(prefix="photondrift-bench-"))
    env = {
        **os.environ,
        "DJANGO_SETTINGS_MODULE": "photondrift.settings",
        "DATABASE_URL": "postgres://postgres@127.0.0.1:5432/photondrift_bench",
        "REDIS_URL": "redis://127.0.0.1:6379/14",
        "PHOTONDRIFT_HOME": str(home),
        "DJANGO_SECRET_KEY": "bench-only-secret-key-0123456789abcdefghijklmnopqrstuvwxyz",
        "DJANGO_ALLOWED_HOSTS": "127.0.0.1,localhost",
        "DJANGO_DEBUG": "false",
        "PREDICT_BATCH_MAX": str(max(args.rows, 10_000)),
    }
    print("setting up (PostgreSQL database photondrift_bench, Redis db 14, training one model)...", file=sys.stderr)
    token, frame = setup(env)
    records = (frame * (args.rows // len(frame) + 1))[: args.rows]
    port = free_port()
    cmd = [PY, "-m", "uvicorn", "photondrift.asgi:application", "--workers", "2", "--port", str(port),
           "--log-level", "warning", "--no-access-log"]  # fmt: skip
    server = subprocess.Popen(cmd, cwd=ROOT, env=env)
    try:
        wait_up(port, server)
        conns = [http.client.HTTPConnection("127.0.0.1", port, timeout=60) for _ in range(2)]
        bodies = [json.dumps({"model": "bench", "input": r}).encode() for r in frame[:500]]
        for i in range(200):  # warm-up: both workers load the model
            post(conns[i % 2], "/api/v1/neural/predict", bodies[i % len(bodies)], token)
        latencies = []
        for i in range(args.requests):
            started = time.perf_counter()
            post(conns[0], "/api/v1/neural/predict", bodies[i % len(bodies)], token)
            latencies.append((time.perf_counter() - started) * 1000)
        batch = json.dumps({"model": "bench", "inputs": records}).encode()
        # A fresh connection: uvicorn closes one idle for 5 s, as the second one was meanwhile.
        conns[1] = http.client.HTTPConnection("127.0.0.1", port, timeout=120)
        post(conns[1], "/api/v1/neural/predict/batch", batch, token)
        batch_times = []
        for _ in range(args.repeats):
            started = time.perf_counter()
            answer = post(conns[1], "/api/v1/neural/predict/batch", batch, token)
            batch_times.append(time.perf_counter() - started)
            assert len(answer["predictions"]) == args.rows
    finally:
        server.terminate()
        server.wait(30)
    http_rows = args.rows / statistics.median(batch_times)
    path_rows, forward_rows = in_process(env, records, args.repeats)
    p50, p99 = pct(latencies, 0.50), pct(latencies, 0.99)
    print(f"command: {shlex.join([PY, *sys.argv])}")
    print(f"single-row predict over HTTP ({args.requests} keep-alive requests): p50 {p50:.2f} ms, p99 {p99:.2f} ms"
          f" (targets 5 / 20 ms)")  # fmt: skip
    print(f"batch predict over HTTP, {args.rows} rows: {http_rows:,.0f} rows/s (median of {args.repeats})")
    print(f"in-process predict path (validate + transform + forward), same rows: {path_rows:,.0f} rows/s")
    print(f"in-process bare forward pass on pre-built tensors, same rows: {forward_rows:,.0f} rows/s")
    print(f"ratio HTTP batch / in-process predict path: {http_rows / path_rows:.2f} (target >= 0.5)")
    print(f"ratio HTTP batch / bare forward pass: {http_rows / forward_rows:.3f}")


if __name__ == "__main__":
    main()
