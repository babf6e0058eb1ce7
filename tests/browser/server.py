"""The real embedded server in a subprocess, and headless Chromium to drive it.

Shared by the browser tests and by docs/images/make_screenshot.py, so the screenshots in the
docs come from the same flow the tests check: start `python -m photondrift.embedded` on a free
port with its own PHOTONDRIFT_HOME, sign in through /login/, start a training through the API.
"""

from __future__ import annotations

import json
import os
import signal
import socket
import subprocess
import sys
import time
import urllib.error
import urllib.request
from dataclasses import dataclass, field
from pathlib import Path

REPO_ROOT = Path(__file__).resolve().parents[2]
CHROMIUM = Path("/usr/bin/chromium")
CHROMIUM_ARGS = [
    "--headless=new",
    "--no-sandbox",
    "--disable-gpu",
    "--disable-quic",
    "--no-first-run",
    "--disable-background-networking",
    "--disable-component-update",
    "--disable-sync",
]
ADMIN_PASSWORD = "browser-test-password"
VIEWPORT = {"width": 1280, "height": 900}

# Anything that would point the subprocess at shared services or another settings module.
_ENV_DROPPED = (
    "DATABASE_URL",
    "REDIS_URL",
    "CELERY_BROKER_URL",
    "CELERY_RESULT_BACKEND",
    "DJANGO_SECRET_KEY",
    "MODEL_STORAGE_PATH",
    "DATASET_STORAGE_PATH",
)


def python_executable() -> str:
    """The project's venv interpreter when there is one, else the one running us."""
    venv = REPO_ROOT / ".venv" / "bin" / "python"
    return str(venv) if venv.exists() else sys.executable


def free_port() -> int:
    with socket.socket(socket.AF_INET, socket.SOCK_STREAM) as sock:
        sock.bind(("127.0.0.1", 0))
        return sock.getsockname()[1]


def server_env(*, home: Path, port: int, password: str = ADMIN_PASSWORD) -> dict[str, str]:
    env = {k: v for k, v in os.environ.items() if k not in _ENV_DROPPED}
    # One torch thread: these models are tiny, and on a busy 2-core machine torch's default
    # thread pool made 30 epochs take over 70 s instead of about 13 s.
    env.setdefault("OMP_NUM_THREADS", "1")
    env.update(
        PHOTONDRIFT_HOME=str(home),
        PHOTONDRIFT_ADMIN_PASSWORD=password,
        PORT=str(port),
        HOST="127.0.0.1",
        # pytest runs with photondrift.settings.test; the server must run the real settings.
        DJANGO_SETTINGS_MODULE="photondrift.settings",
        PYTHONUNBUFFERED="1",
        # A beat every second: the SQLite writers (heartbeat thread, training thread) race often.
        WORKER_HEARTBEAT_S="1",
    )
    return env


@dataclass
class EmbeddedServer:
    """`python -m photondrift.embedded` on a free port; its output goes to <home>/server.log."""

    home: Path
    password: str = ADMIN_PASSWORD
    port: int = field(default_factory=free_port)
    process: subprocess.Popen | None = None

    @property
    def base_url(self) -> str:
        return f"http://127.0.0.1:{self.port}"

    @property
    def log_path(self) -> Path:
        return self.home / "server.log"

    @property
    def env(self) -> dict[str, str]:
        return server_env(home=self.home, port=self.port, password=self.password)

    def start(self, *, timeout: float = 60.0) -> EmbeddedServer:
        self.home.mkdir(parents=True, exist_ok=True)
        log = self.log_path.open("wb")
        self.process = subprocess.Popen(
            [python_executable(), "-m", "photondrift.embedded"],
            cwd=REPO_ROOT,
            env=self.env,
            stdout=log,
            stderr=subprocess.STDOUT,
            # Its own process group, so stop() reaches anything it starts and nothing else.
            start_new_session=True,
        )
        log.close()
        try:
            self.wait_healthy(timeout=timeout)
        except BaseException:
            self.stop()
            raise
        return self

    def wait_healthy(self, *, timeout: float) -> None:
        deadline = time.monotonic() + timeout
        last = "no answer yet"
        while time.monotonic() < deadline:
            if self.process.poll() is not None:
                raise RuntimeError(f"server exited with {self.process.returncode}:\n{self.log_tail()}")
            try:
                with urllib.request.urlopen(f"{self.base_url}/healthz", timeout=2) as res:
                    if res.status == 200:
                        return
                    last = f"HTTP {res.status}"
            except urllib.error.HTTPError as exc:
                last = f"HTTP {exc.code}: {exc.read()[:500]!r}"
            except OSError as exc:
                last = repr(exc)
            time.sleep(0.25)
        raise TimeoutError(f"/healthz not 200 after {timeout:.0f}s ({last}):\n{self.log_tail()}")

    def stop(self, *, timeout: float = 10.0) -> None:
        proc = self.process
        if proc is None or proc.poll() is not None:
            return
        for sig, wait in ((signal.SIGTERM, timeout), (signal.SIGKILL, 5.0)):
            try:
                os.killpg(proc.pid, sig)
            except ProcessLookupError:
                return
            try:
                proc.wait(timeout=wait)
                return
            except subprocess.TimeoutExpired:
                continue

    def log_tail(self, chars: int = 4000) -> str:
        try:
            return self.log_path.read_text(errors="replace")[-chars:]
        except OSError:
            return "(no server log)"

    def __enter__(self) -> EmbeddedServer:
        return self.start()

    def __exit__(self, *exc) -> None:
        self.stop()


def launch_chromium(playwright):
    return playwright.chromium.launch(executable_path=str(CHROMIUM), args=CHROMIUM_ARGS)


def login(page, server: EmbeddedServer, *, username: str = "admin") -> None:
    """Sign in through the real /login/ form; the context keeps the session cookie."""
    page.goto(f"{server.base_url}/login/")
    page.fill("input[name=username]", username)
    page.fill("input[name=password]", server.password)
    with page.expect_navigation():
        page.click("button[type=submit]")
    if "/login/" in page.url:
        raise AssertionError(f"login failed, still on {page.url}")


def start_training(context, server: EmbeddedServer, **body) -> dict:
    """POST /api/v1/neural/train as the signed-in user (session cookie + CSRF header)."""
    status, answer = api(context, server, "POST", "/api/v1/neural/train", body)
    if status != 202:
        raise AssertionError(f"POST /api/v1/neural/train -> {status}: {answer}")
    return answer


def start_demo_training(context, server: EmbeddedServer, *, epochs: int, **extra) -> dict:
    """Train on the embedded server's demo coordination data set, every epoch run (no early stop)."""
    return start_training(
        context,
        server,
        pattern_type="coordination",
        training_data="demo-coordination",
        epochs=epochs,
        config={"early_stopping": False},
        **extra,
    )


def session_status(context, server: EmbeddedServer, session_id: int) -> str:
    res = context.request.get(f"{server.base_url}/api/v1/neural/train/{session_id}/status")
    return res.json()["status"]


def api(context, server: EmbeddedServer, method: str, path: str, body: dict | None = None) -> tuple[int, object]:
    """Call the API as the signed-in user (session cookie + CSRF header): (status, JSON body)."""
    csrf = next((c["value"] for c in context.cookies(server.base_url) if c["name"] == "csrftoken"), "")
    res = context.request.fetch(
        f"{server.base_url}{path}",
        method=method,
        data=json.dumps(body) if body is not None else None,
        headers={"Content-Type": "application/json", "X-CSRFToken": csrf},
    )
    try:
        payload = res.json()
    except ValueError:
        payload = res.text()[:1000]
    return res.status, payload


def wait_for_training(context, server: EmbeddedServer, session_id: int, *, timeout: float) -> str:
    """Poll the session's status until it is finished or ``timeout`` passes; returns the last one."""
    deadline = time.monotonic() + timeout
    status = ""
    while time.monotonic() < deadline:
        status = session_status(context, server, session_id)
        if status in ("succeeded", "failed", "stopped"):
            break
        time.sleep(0.5)
    return status
