"""The production stack, for real: PostgreSQL, Redis, a `celery worker` subprocess and an ASGI
server subprocess (uvicorn), all sharing the test database. Under CI=true a missing service
fails the run; elsewhere these tests skip with the reason."""

from __future__ import annotations

import json
import os
import socket
import subprocess
import sys
import time
import urllib.error
import urllib.request
from pathlib import Path

import pytest
from django.conf import settings
from django.db import connection

VENV_BIN = Path(sys.executable).parent
REDIS_URL = settings.TEST_REDIS_URL


def _need(condition: bool, reason: str) -> None:
    if condition:
        return
    if settings.CI:
        pytest.fail(f"CI=true and {reason}")
    pytest.skip(reason)


def _redis_ok() -> bool:
    import redis

    try:
        client = redis.Redis.from_url(REDIS_URL, socket_timeout=1)
        client.flushdb()
        return True
    except redis.RedisError:
        return False


def _free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


class Stack:
    def __init__(self, base_url: str, token: str, env: dict, logs: Path) -> None:
        self.base_url, self.token, self.env, self.logs = base_url, token, env, logs

    def http(self, method: str, path: str, body: dict | None = None) -> tuple[int, dict]:
        req = urllib.request.Request(
            self.base_url + path,
            method=method,
            data=json.dumps(body).encode() if body is not None else None,
            headers={"Authorization": f"Token {self.token}", "Content-Type": "application/json"},
        )
        try:
            with urllib.request.urlopen(req, timeout=30) as res:
                return res.status, json.loads(res.read() or b"{}")
        except urllib.error.HTTPError as err:
            return err.code, json.loads(err.read() or b"{}")

    def ws_url(self, path: str) -> str:
        return self.base_url.replace("http://", "ws://") + path

    def log_tails(self) -> str:
        """The last lines the worker and the web server wrote, for a failure message."""
        return _log_tails(self.logs)


def _log_tails(logs: Path) -> str:
    return "\n".join(f"--- {p.name}\n{p.read_text()[-3000:]}" for p in logs.glob("*.log"))


def _wait_for(check, what: str, logs: Path, timeout: float = 60) -> None:
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        if check():
            return
        time.sleep(0.25)
    pytest.fail(f"timed out waiting for {what}\n{_log_tails(logs)}")


@pytest.fixture
def production_stack(transactional_db, tmp_path, settings):
    _need(connection.vendor == "postgresql", "PostgreSQL at 127.0.0.1:5432 is not reachable")
    _need(_redis_ok(), f"Redis at {REDIS_URL} is not reachable")
    from neural.training.models import WorkerHeartbeat
    from tests.factories import UserFactory, api_token

    token = api_token(UserFactory(username="integration", is_staff=True))
    db = connection.settings_dict
    env = {
        **os.environ,
        "DJANGO_SETTINGS_MODULE": "photondrift.settings",
        "DATABASE_URL": f"postgres://{db['USER']}@{db['HOST']}:{db['PORT']}/{db['NAME']}",
        "REDIS_URL": REDIS_URL,
        "PHOTONDRIFT_HOME": str(tmp_path),
        "DATASET_STORAGE_PATH": str(settings.DATASET_STORAGE_PATH),
        "MODEL_STORAGE_PATH": str(settings.MODEL_STORAGE_PATH),
        "DJANGO_SECRET_KEY": "integration-tests-only",
        "DJANGO_HTTPS": "false",  # the test server speaks plain HTTP on loopback
        "WORKER_HEARTBEAT_S": "1",
    }
    logs = tmp_path / "logs"
    logs.mkdir()
    port = _free_port()
    commands = {
        "worker": [
            str(VENV_BIN / "celery"),
            "-A",
            "photondrift",
            "worker",
            "-Q",
            "training,default",
            "--pool",
            "solo",
            "--concurrency",
            "1",
            "--without-mingle",
            "--without-gossip",
            "-n",
            "itest@%h",
            "--loglevel",
            "INFO",
        ],
        "web": [
            sys.executable,
            "-m",
            "uvicorn",
            "photondrift.asgi:application",
            "--host",
            "127.0.0.1",
            "--port",
            str(port),
            "--lifespan",
            "off",
        ],
    }
    procs = [
        subprocess.Popen(
            cmd, cwd=settings.BASE_DIR, env=env, stdout=(logs / f"{name}.log").open("w"), stderr=subprocess.STDOUT
        )
        for name, cmd in commands.items()
    ]
    stack = Stack(f"http://127.0.0.1:{port}", token, env, logs)
    stack.procs = dict(zip(commands, procs, strict=True))  # a test may kill one (test_resume.py)
    try:
        _wait_for(lambda: WorkerHeartbeat.objects.filter(hostname__startswith="itest@").exists(), "worker", logs)
        _wait_for(lambda: _healthy(stack), "web server", logs)
        yield stack
    finally:
        for proc in procs:
            proc.terminate()
        for proc in procs:
            try:
                proc.wait(timeout=15)
            except subprocess.TimeoutExpired:
                proc.kill()


def _healthy(stack: Stack) -> bool:
    try:
        return stack.http("GET", "/healthz")[0] == 200
    except OSError:
        return False
