"""The dashboard with a real history: 10,000 sessions, one of 1,000,000 epochs, one of 20,000.

Sets up the production way: PostgreSQL (its own database, ``photondrift_scale``), Redis
(``--redis``, default db 7) for the channel layer, migrations, then seeds through the ORM
(the 10,000 sessions with ``bulk_create``; the long sessions' epoch rows, summaries and log
lines with COPY). A second run reuses the seed (``--reseed`` starts again). Then starts
``uvicorn photondrift.asgi:application --workers 2`` (as the Procfile) and measures:

- the 1M and 20k session pages: time to first byte, whole time and size (median of repeats),
  the server workers' memory before and after (RSS growth);
- ``train/{id}/metrics`` on the 1M session: whole run, and ranges of 100, 10k, 100k and 500k
  epochs at random places (max of each);
- the runs table ``/sessions/``: first page, last page, and a filtered, sorted, searched query
  ("n/a" while that page answers 404);
- headless Chromium: the 1M session page's load event and the time until its charts are drawn;
- epoch written -> point on the chart: 49 websocket clients and one Chromium page open on a
  running session; the benchmark writes epochs through the training callback
  (``SessionProgress.on_epoch_end``: row, summaries, broadcast) and each client notes when it got
  the frame, the page when Plotly drew the point (``window.pdDrawn``; same machine clock).

Run from the repository root::

    .venv/bin/python benchmarks/dashboard_scale.py [--epochs 1000000] [--sessions 10000] [--reseed]
"""

from __future__ import annotations

import argparse
import asyncio
import http.client
import json
import os
import random
import re
import socket
import statistics
import subprocess
import sys
import threading
import time
from pathlib import Path
from urllib.parse import urlencode

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))
DB = "photondrift_scale"
PASSWORD = "scale-bench-password"


def pct(values: list[float], q: float) -> float:
    ordered = sorted(values)
    return ordered[min(len(ordered) - 1, round(q * (len(ordered) - 1)))]


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


def load() -> str:
    return "load average " + " ".join(f"{x:.2f}" for x in os.getloadavg()) + f" on {os.cpu_count()} cores"


# --- seeding (in this process, through the ORM) ------------------------------------------------


def setup_django(env: dict) -> None:
    os.environ.update(env)
    # Playwright's sync API runs an event loop in this thread; the ORM calls here are not in it.
    os.environ["DJANGO_ALLOW_ASYNC_UNSAFE"] = "true"  # (epochs are written from a thread of their own)
    import django

    django.setup()


def fresh_database(reseed: bool) -> None:
    exists = subprocess.run(
        ["psql", "-h", "127.0.0.1", "-U", "postgres", "-tAc", f"SELECT 1 FROM pg_database WHERE datname='{DB}'"],
        capture_output=True,
        text=True,
        check=True,
    ).stdout.strip()
    if exists and reseed:
        subprocess.run(["dropdb", "-h", "127.0.0.1", "-U", "postgres", DB], check=True)
    if not exists or reseed:
        subprocess.run(["createdb", "-h", "127.0.0.1", "-U", "postgres", DB], check=True)


def seed(n_sessions: int, n_epochs: int) -> dict[str, int]:
    """Sessions by name -> id; seeds only what is missing."""
    from django.contrib.auth import get_user_model
    from django.core.management import call_command

    from neural.training.models import TrainingSession

    call_command("migrate", interactive=False, verbosity=0)
    User = get_user_model()
    if not User.objects.filter(username="scale").exists():
        User.objects.create_superuser("scale", "", PASSWORD)
    dataset = _dataset()
    if TrainingSession.objects.filter(name__startswith="bulk-").count() < n_sessions:
        _bulk_sessions(dataset, n_sessions)
    ids = {}
    for name, epochs in (("scale-1m", n_epochs), ("scale-20k", 20_000)):
        session = TrainingSession.objects.filter(name=name).first()
        if session is None or session.epoch != epochs:
            if session is not None:
                session.delete()
            started = time.perf_counter()
            session = _long_session(dataset, name, epochs)
            print(f"seeded {name}: {epochs:,} epochs, summaries and log lines in {time.perf_counter() - started:.0f} s")
        ids[name] = session.pk
    TrainingSession.objects.filter(name="scale-live").delete()  # a fresh one each run (no epochs yet)
    live = TrainingSession.objects.create(
        name="scale-live", dataset=dataset, pattern="coordination", model_name="live", config={}, epochs=10_000,
        status="running", started_at=_now(),
    )  # fmt: skip
    ids["scale-live"] = live.pk
    return ids


def _now():
    from django.utils import timezone

    return timezone.now()


def _dataset():
    from neural.datasets.generator import generate
    from neural.datasets.models import Dataset
    from neural.datasets.services import dataset_store_frame

    found = Dataset.objects.filter(name="scale").first()
    if found:
        return found
    df, target = generate(pattern="coordination", rows=400, seed=5)
    return dataset_store_frame(df=df, name="scale", target=target, pattern="coordination", source_format="generator")


def _bulk_sessions(dataset, n: int) -> None:
    from datetime import timedelta

    from neural.training.models import TrainingSession

    rng = random.Random(7)
    now = _now()
    statuses = ["succeeded"] * 7 + ["failed", "stopped", "running"]
    rows = []
    for i in range(n):
        status = rng.choice(statuses)
        started = now - timedelta(minutes=5 * (n - i))
        rows.append(
            TrainingSession(
                name=f"bulk-{i}",
                dataset=dataset,
                pattern="coordination",
                model_name=f"model-{i % 40}",
                config={"epochs": 50, "learning_rate": rng.choice([0.01, 0.003, 0.001]), "batch_size": 256},
                status=status,
                epoch=50 if status == "succeeded" else rng.randint(1, 49),
                epochs=50,
                metrics={"val_accuracy": rng.uniform(0.6, 0.9), "val_loss": rng.uniform(0.3, 0.7)},
                tags=[rng.choice(["baseline", "sweep", "prod"])],
                started_at=started,
                finished_at=started + timedelta(minutes=3) if status != "running" else None,
            )
        )
    TrainingSession.objects.bulk_create(rows, batch_size=2000)


def _long_session(dataset, name: str, epochs: int):
    """A finished session of ``epochs`` epoch rows, their summaries and log lines, written with
    PostgreSQL's COPY (the ORM's bulk_create took about a quarter of an hour for a million); the
    summaries are the blocks ``series.summaries_of`` makes, computed with numpy over the whole run."""
    import numpy as np
    import orjson
    from django.db import connection, transaction

    from neural.training.models import TrainingSession

    session = TrainingSession.objects.create(
        name=name, dataset=dataset, pattern="coordination", model_name=name, config={"epochs": epochs},
        epochs=epochs, epoch=epochs, status="succeeded", started_at=_now(), finished_at=_now(),
    )  # fmt: skip
    rng = np.random.default_rng(11)
    e = np.arange(1, epochs + 1)
    train = 0.3 + 0.7 / np.sqrt(e) + rng.normal(0, 0.01, e.size)
    val = train * 1.05 + rng.normal(0, 0.01, e.size)
    val[rng.random(e.size) < 0.0005] += 2.0  # rare spikes the downsample must keep
    acc = 1 - val / 2
    series = {
        "train_loss": train, "val_loss": val, "lr": np.full(e.size, 0.001), "elapsed_s": e * 0.2,
        "epoch_time_s": np.full(e.size, 0.2), "val_accuracy": acc, "val_macro_f1": acc - 0.05,
        "val_roc_auc": acc + 0.05,
    }  # fmt: skip
    usage = {"rss_bytes": 600_000_000 + e, "cpu_percent": np.full(e.size, 95.0)}
    best = val < np.minimum.accumulate(np.r_[np.inf, val[:-1]])
    names = list(series)
    columns = [series[k].tolist() for k in names]
    sid, rss, best_l = session.pk, usage["rss_bytes"].tolist(), best.tolist()
    with transaction.atomic(), connection.cursor() as cur:
        with cur.copy(
            "COPY training_epochmetric (session_id, epoch, train_loss, val_loss, val_accuracy, lr, elapsed_s,"
            " metrics, is_best, rss_bytes, cpu_percent) FROM STDIN"
        ) as copy:
            for i, ep in enumerate(e.tolist()):
                m = {k: col[i] for k, col in zip(names, columns, strict=True)}
                copy.write_row(
                    (sid, ep, m["train_loss"], m["val_loss"], m["val_accuracy"], 0.001, m["elapsed_s"],
                     orjson.dumps(m).decode(), best_l[i], rss[i], 95.0)
                )  # fmt: skip
        with cur.copy("COPY training_sessionlog (session_id, created_at, level, message) FROM STDIN") as copy:
            now = _now()
            for ep, v in zip(e.tolist(), val.tolist(), strict=True):
                copy.write_row((sid, now, "info", f"epoch {ep}/{epochs}: val_loss={v:.4g}"))
        with cur.copy(
            "COPY training_epochsummary (session_id, width, block, first_epoch, last_epoch, stats) FROM STDIN"
        ) as copy:
            for row in summary_rows(sid, {**series, **usage}):
                copy.write_row(row)
    return session


def summary_rows(session_id: int, series: dict) -> list[tuple]:
    """(session, width, block, first epoch, last epoch, stats JSON) of every summary block of
    series over epochs 1..N, as ``series.summaries_of`` folds them one epoch at a time."""
    import numpy as np
    import orjson

    from neural.training.series import WIDTHS

    n = len(next(iter(series.values())))
    out = []
    for width in WIDTHS:
        blocks = -(-n // width)
        pad = blocks * width - n
        starts = np.arange(blocks) * width
        ends = np.minimum(starts + width, n) - 1
        per_key = {}
        for key, values in series.items():
            v = np.asarray(values, dtype=np.float64)
            lows = np.pad(v, (0, pad), constant_values=np.inf).reshape(blocks, width)
            highs = np.pad(v, (0, pad), constant_values=-np.inf).reshape(blocks, width)
            at_min, at_max = lows.argmin(axis=1), highs.argmax(axis=1)
            per_key[key] = zip(
                v[starts].tolist(), v[ends].tolist(), lows[np.arange(blocks), at_min].tolist(),
                (starts + at_min + 1).tolist(), highs[np.arange(blocks), at_max].tolist(),
                (starts + at_max + 1).tolist(), strict=True,
            )  # fmt: skip
        for block, first, last in zip(range(blocks), (starts + 1).tolist(), (ends + 1).tolist(), strict=True):
            stats = {key: list(next(it)) for key, it in per_key.items()}
            out.append((session_id, width, block, first, last, orjson.dumps(stats).decode()))
    return out


# --- the server and HTTP measurements ----------------------------------------------------------


def start_server(env: dict, port: int) -> subprocess.Popen:
    cmd = [sys.executable, "-m", "uvicorn", "photondrift.asgi:application", "--host", "127.0.0.1",
           "--port", str(port), "--workers", "2", "--lifespan", "off", "--log-level", "warning"]  # fmt: skip
    proc = subprocess.Popen(cmd, cwd=ROOT, env={**os.environ, **env, "OMP_NUM_THREADS": "1"}, start_new_session=True)
    deadline = time.monotonic() + 90
    while time.monotonic() < deadline:
        if proc.poll() is not None:
            raise SystemExit(f"uvicorn exited with {proc.returncode}")
        try:
            conn = http.client.HTTPConnection("127.0.0.1", port, timeout=2)
            conn.request("GET", "/healthz")
            if conn.getresponse().status in (200, 503):
                return proc
        except OSError:
            time.sleep(0.3)
    raise SystemExit("uvicorn did not answer /healthz in time")


def server_rss(proc: subprocess.Popen) -> int:
    import psutil

    parent = psutil.Process(proc.pid)
    return sum(p.memory_info().rss for p in [parent, *parent.children(recursive=True)])


def login(port: int) -> str:
    """A session cookie of the seeded user, through the real /login/ form."""
    conn = http.client.HTTPConnection("127.0.0.1", port, timeout=30)
    conn.request("GET", "/login/")
    res = conn.getresponse()
    html = res.read().decode()
    csrf = re.search(r"csrftoken=([^;]+)", res.getheader("Set-Cookie")).group(1)
    token = re.search(r'name="csrfmiddlewaretoken" value="([^"]+)"', html).group(1)
    body = urlencode({"username": "scale", "password": PASSWORD, "csrfmiddlewaretoken": token})
    conn.request(
        "POST", "/login/", body, {"Content-Type": "application/x-www-form-urlencoded", "Cookie": f"csrftoken={csrf}"}
    )
    res = conn.getresponse()
    res.read()
    session = re.search(r"sessionid=([^;]+)", res.getheader("Set-Cookie") or "")
    if not session:
        raise SystemExit(f"login failed: HTTP {res.status}")
    return f"csrftoken={csrf}; sessionid={session.group(1)}"


SERVER: list = []  # the uvicorn process, for the CPU its workers spend on each request


def server_cpu() -> float:
    import psutil

    if not SERVER:
        return 0.0
    parent = psutil.Process(SERVER[0].pid)
    return sum(sum(p.cpu_times()[:2]) for p in [parent, *parent.children(recursive=True)])


def timed_get(port: int, path: str, cookie: str) -> tuple[int, float, float, int, float]:
    """(status, seconds to first byte, seconds in all, bytes, server CPU seconds) of one GET on a
    new connection. On a shared machine the wall times follow its load; the CPU seconds do not."""
    cpu = server_cpu()
    conn = http.client.HTTPConnection("127.0.0.1", port, timeout=300)
    started = time.perf_counter()
    conn.request("GET", path, headers={"Cookie": cookie})
    res = conn.getresponse()  # returns once the status line and headers arrived: the first bytes
    first = time.perf_counter() - started
    body = res.read()
    total = time.perf_counter() - started
    return res.status, first, total, len(body), server_cpu() - cpu


def page_figures(port: int, cookie: str, path: str, repeats: int) -> dict:
    got = [timed_get(port, path, cookie) for _ in range(repeats)]
    if got[0][0] != 200:
        return {"status": got[0][0]}
    return {
        "first_byte_s": statistics.median(g[1] for g in got),
        "total_s": statistics.median(g[2] for g in got),
        "bytes": got[0][3],
        "server_cpu_s": statistics.median(g[4] for g in got),
    }


def metrics_figures(port: int, cookie: str, sid: int, epochs: int, repeats: int) -> dict[str, list[tuple]]:
    rng = random.Random(3)
    out = {}
    base = f"/api/v1/neural/train/{sid}/metrics"
    out["whole run"] = [timed_get(port, base, cookie)[2::2] for _ in range(repeats)]
    for span in (100, 10_000, 100_000, 500_000):
        if span >= epochs:
            continue
        times = []
        for _ in range(repeats):
            lo = rng.randint(1, epochs - span)
            status, _, total, _, cpu = timed_get(port, f"{base}?from={lo}&to={lo + span - 1}", cookie)
            assert status == 200, status
            times.append((total, cpu))
        out[f"range of {span:,}"] = times
    return out


def runs_table(port: int, cookie: str, n_sessions: int, repeats: int) -> dict[str, str]:
    paths = {
        "first page": "/sessions/",
        "last page": f"/sessions/?page={n_sessions // 25 + 1}",
        "filtered": "/sessions/?page=2&sort=-started_at&status=succeeded&q=model-1",
    }
    out = {}
    for name, path in paths.items():
        got = [timed_get(port, path, cookie) for _ in range(repeats)]
        if got[0][0] == 404:
            out[name] = "n/a (404)"
        else:
            out[name] = (
                f"wall max {max(g[2] for g in got):.3f} s, server CPU max {max(g[4] for g in got):.3f} s "
                f"(HTTP {got[0][0]}, {got[0][3]:,} bytes)"
            )
    return out


# --- the browser and the live path -------------------------------------------------------------


def browser_load(port: int, cookie: str, sid: int) -> dict[str, float]:
    from playwright.sync_api import sync_playwright

    from tests.browser.server import VIEWPORT, launch_chromium

    with sync_playwright() as pw:
        browser = launch_chromium(pw)
        context = browser.new_context(viewport=VIEWPORT)
        context.add_cookies(_cookies(port, cookie))
        page = context.new_page()
        cdp = context.new_cdp_session(page)
        cdp.send("Performance.enable")
        started = time.perf_counter()
        page.goto(f"http://127.0.0.1:{port}/sessions/{sid}/", wait_until="load", timeout=120_000)
        loaded = time.perf_counter() - started
        page.wait_for_selector("body[data-loaded]", timeout=120_000)
        drawn = time.perf_counter() - started
        nodes = page.evaluate("() => document.getElementsByTagName('*').length")
        timing = page.evaluate(TIMING)
        # Seconds the renderer's main thread was busy: what the load costs, whatever the machine's load.
        busy = {m["name"]: m["value"] for m in cdp.send("Performance.getMetrics")["metrics"]}
        timing["renderer busy s (TaskDuration)"] = round(busy.get("TaskDuration", 0.0), 3)
        timing["of it script s"] = round(busy.get("ScriptDuration", 0.0), 3)
        layout = busy.get("LayoutDuration", 0.0) + busy.get("RecalcStyleDuration", 0.0)
        timing["of it layout + style s"] = round(layout, 3)
        browser.close()
    return {"load event s": round(loaded, 3), "charts drawn s": round(drawn, 3), "DOM nodes": nodes, **timing}


# Where the load went: the page's own bytes, plotly.min.js, and the page's scripts after it.
TIMING = """() => {
  const nav = performance.getEntriesByType('navigation')[0];
  const plotly = performance.getEntriesByType('resource').find((r) => r.name.includes('plotly'));
  const ms = (v) => Math.round(v);
  return {
    'HTML received ms': ms(nav.responseEnd),
    'plotly.js fetched ms': plotly ? ms(plotly.responseEnd) : null,
    'plotly.js bytes on the wire': plotly ? plotly.transferSize : null,
    'DOMContentLoaded ms': ms(nav.domContentLoadedEventEnd),
  };
}"""


def _cookies(port: int, cookie: str) -> list[dict]:
    return [
        {"name": k, "value": v, "url": f"http://127.0.0.1:{port}"}
        for k, v in (part.strip().split("=", 1) for part in cookie.split(";"))
    ]


def live_latency(port: int, cookie: str, sid: int, clients: int, epochs: int, rate: float) -> dict:
    """Epoch written -> frame at each websocket client, and -> point drawn on one Chromium page."""
    import websockets
    from playwright.sync_api import sync_playwright

    from neural.engine.callbacks import EpochState
    from neural.training.models import TrainingSession
    from neural.training.progress import SessionProgress
    from tests.browser.server import VIEWPORT, launch_chromium

    received: dict[int, list[float]] = {}
    ready = threading.Event()
    done = threading.Event()

    async def client() -> None:
        url = f"ws://127.0.0.1:{port}/ws/sessions/{sid}/"
        headers = {"Cookie": cookie, "Origin": f"http://127.0.0.1:{port}"}
        async with websockets.connect(url, additional_headers=headers) as ws:
            while not done.is_set():
                try:
                    msg = json.loads(await asyncio.wait_for(ws.recv(), 0.5))
                except TimeoutError:
                    continue
                if msg["type"] == "training.epoch":
                    received.setdefault(msg["epoch"], []).append(time.time())

    async def all_clients() -> None:
        tasks = [asyncio.create_task(client()) for _ in range(clients - 1)]
        await asyncio.sleep(2)
        ready.set()
        await asyncio.gather(*tasks)

    thread = threading.Thread(target=lambda: asyncio.run(all_clients()), daemon=True)
    thread.start()
    session = TrainingSession.objects.get(pk=sid)
    progress = SessionProgress(session)
    written: dict[int, float] = {}
    with sync_playwright() as pw:
        browser = launch_chromium(pw)
        context = browser.new_context(viewport=VIEWPORT)
        context.add_cookies(_cookies(port, cookie))
        page = context.new_page()
        page.goto(f"http://127.0.0.1:{port}/sessions/{sid}/")
        page.wait_for_selector("#live.on", timeout=60_000)
        ready.wait(60)

        def write_epochs() -> None:
            # A thread of its own, as a worker's training thread (this one runs Playwright's loop).
            from django.db import connection

            for epoch in range(1, epochs + 1):
                loss = 1 / epoch**0.5
                metrics = {"val_accuracy": 1 - loss / 2}
                state = EpochState(epoch, 10_000, loss, loss * 1.1, 0.001, epoch * 0.1, 0.1, metrics)
                written[epoch] = time.time()
                progress.on_epoch_end(state)
                time.sleep(1 / rate)
            connection.close()

        writer = threading.Thread(target=write_epochs)
        writer.start()
        while writer.is_alive():
            page.wait_for_timeout(200)
        page.wait_for_timeout(1500)
        drawn = page.evaluate("() => window.pdDrawn")
        browser.close()
    done.set()
    thread.join(5)
    frames = [(t - written[e]) * 1000 for e, ts in received.items() for t in ts]
    chart = [(v / 1000 - written[int(e)]) * 1000 for e, v in drawn.items() if int(e) in written]
    return {
        "websocket clients": clients - 1,
        "frames received": f"{len(frames)} of {(clients - 1) * epochs}",
        "write->frame ms p50/p95/max": f"{pct(frames, 0.5):.0f} / {pct(frames, 0.95):.0f} / {max(frames):.0f}"
        if frames
        else "none",
        "points drawn": f"{len(chart)} of {epochs}",
        "write->chart ms p50/p95/max": f"{pct(chart, 0.5):.0f} / {pct(chart, 0.95):.0f} / {max(chart):.0f}"
        if chart
        else "none",
    }


PARTS = ("pages", "api", "runs", "browser", "live")


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--epochs", type=int, default=1_000_000)
    parser.add_argument("--sessions", type=int, default=10_000)
    parser.add_argument("--repeats", type=int, default=5)
    parser.add_argument("--clients", type=int, default=50, help="open pages: websocket clients + one Chromium page")
    parser.add_argument("--live-epochs", type=int, default=60)
    parser.add_argument("--rate", type=float, default=5.0, help="epochs written per second on the live session")
    parser.add_argument("--redis", default="redis://127.0.0.1:6379/7")
    parser.add_argument("--reseed", action="store_true")
    parser.add_argument("--seed-only", action="store_true", help="seed (or check the seed) and stop")
    parser.add_argument("--only", action="append", choices=PARTS, help="measure only these parts (repeatable)")
    parser.add_argument("--no-collect", action="store_true", help="reuse the last collectstatic (static/ unchanged)")
    args = parser.parse_args()
    parts = set(args.only or PARTS)

    env = {
        "DATABASE_URL": f"postgres://postgres@127.0.0.1:5432/{DB}",
        "REDIS_URL": args.redis,
        "DJANGO_SETTINGS_MODULE": "photondrift.settings",
        "PHOTONDRIFT_HOME": str(Path(os.environ.get("TMPDIR", "/tmp")) / "photondrift-scale"),
        "DJANGO_ALLOWED_HOSTS": "127.0.0.1,localhost",
        "DJANGO_SECRET_KEY": "scale-bench-only-secret-key-0123456789abcdefghijklmnopqrstuvwxyz",
        "DJANGO_DEBUG": "false",
        "DJANGO_HTTPS": "false",  # plain HTTP on this machine, as the embedded server
    }
    fresh_database(args.reseed)
    setup_django(env)
    started = time.perf_counter()
    ids = seed(args.sessions, args.epochs)
    print(f"seed ready in {time.perf_counter() - started:.0f} s; {load()}")
    if args.seed_only:
        return

    from django.core.management import call_command

    if not args.no_collect:
        call_command("collectstatic", interactive=False, verbosity=0)
    port = free_port()
    server = start_server(env, port)
    SERVER.append(server)
    try:
        cookie = login(port)
        timed_get(port, f"/sessions/{ids['scale-20k']}/", cookie)  # warm both workers' imports
        timed_get(port, f"/sessions/{ids['scale-20k']}/", cookie)
        if "pages" in parts:
            rss_before = server_rss(server)
            big = page_figures(port, cookie, f"/sessions/{ids['scale-1m']}/", args.repeats)
            rss_after = server_rss(server)
            small = page_figures(port, cookie, f"/sessions/{ids['scale-20k']}/", args.repeats)
            print(f"\n{args.epochs:,}-epoch session page: {big}")
            print(f"server workers' RSS {rss_before / 2**20:.0f} -> {rss_after / 2**20:.0f} MB "
                  f"(growth {(rss_after - rss_before) / 2**20:.1f} MB)")  # fmt: skip
            print(f"20,000-epoch session page: {small}")
        if "api" in parts:
            print(f"\nmetrics API on the {args.epochs:,}-epoch session ({args.repeats} reads, seconds):")
            for name, got in metrics_figures(port, cookie, ids["scale-1m"], args.epochs, args.repeats).items():
                walls, cpus = [g[0] for g in got], [g[1] for g in got]
                print(
                    f"  {name:>18}: wall median {statistics.median(walls):.3f}, max {max(walls):.3f}; "
                    f"server CPU median {statistics.median(cpus):.3f}, max {max(cpus):.3f}"
                )
        if "runs" in parts:
            print(f"\nruns table with {args.sessions:,} sessions (max of {args.repeats}):")
            for name, said in runs_table(port, cookie, args.sessions, args.repeats).items():
                print(f"  {name:>12}: {said}")
        if "browser" in parts:
            shown = browser_load(port, cookie, ids["scale-1m"])
            print(f"\nheadless Chromium, {args.epochs:,}-epoch session page: {shown}")
        if "live" in parts:
            live = live_latency(port, cookie, ids["scale-live"], args.clients, args.live_epochs, args.rate)
            print(f"\nlive, {args.clients} open pages, {args.live_epochs} epochs at {args.rate}/s:")
            for name, said in live.items():
                print(f"  {name}: {said}")
        print(load())
    finally:
        os.killpg(server.pid, 15)
        try:
            server.wait(10)
        except subprocess.TimeoutExpired:  # workers still draining websockets
            os.killpg(server.pid, 9)
            server.wait(10)


if __name__ == "__main__":
    main()
