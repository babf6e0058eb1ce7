"""A server or worker killed with -9 mid-training: the session goes on from its checkpoint.

Both run modes, for real: the `make run` server (`python -m photondrift.embedded`, SQLite and the
file broker under a temporary PHOTONDRIFT_HOME) killed and started again; and a production
`celery worker` (PostgreSQL, Redis) killed, then a second worker started.
"""

from __future__ import annotations

import hashlib
import os
import secrets
import signal
import sqlite3
import subprocess
import sys
import time
import urllib.request
from contextlib import closing
from pathlib import Path

import pytest
from django.conf import settings

from tests.factories import COORDINATION_INPUT
from tests.integration.conftest import VENV_BIN, Stack, _free_port, _log_tails, _wait_for

pytestmark = pytest.mark.slow
EPOCHS = 24
SECOND_WORKER = [
    *(str(VENV_BIN / "celery"), "-A", "photondrift", "worker", "-Q", "training,default", "--pool", "solo"),
    *("--without-mingle", "--without-gossip", "-n", "second@%h", "--loglevel", "INFO"),
]
TRAIN = {
    "pattern_type": "coordination",
    "training_data": "small",
    "epochs": EPOCHS,
    "config": {"early_stopping": False},
}


def _status(stack: Stack, session_id: int) -> dict:
    code, body = stack.http("GET", f"/api/v1/neural/train/{session_id}/status")
    assert code == 200, body
    return body


def _wait_for_epoch(stack: Stack, session_id: int, epoch: int, timeout: float = 180) -> dict:
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        body = _status(stack, session_id)
        assert body["status"] in ("queued", "running"), body
        if body["epoch"] >= epoch:
            return body
        time.sleep(0.2)
    pytest.fail(f"session {session_id} never reached epoch {epoch}\n{stack.log_tails()}")


def _wait_until_finished(stack: Stack, session_id: int, timeout: float = 300) -> dict:
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        try:
            body = _status(stack, session_id)
        except OSError:  # the server is still starting
            body = {"status": "starting"}
        if body["status"] in ("succeeded", "failed", "stopped"):
            return body
        time.sleep(0.5)
    pytest.fail(f"session {session_id} never finished\n{stack.log_tails()}")


def _assert_resumed_from_checkpoint(stack: Stack, session_id: int, killed_at: int, home: Path) -> None:
    done = _wait_until_finished(stack, session_id)
    assert done["status"] == "succeeded", f"{done}\n{stack.log_tails()}"
    logs = stack.http("GET", f"/api/v1/neural/train/{session_id}/logs")[1]
    messages = [line["message"] for line in logs["lines"]]
    resumed_at = next(i for i, m in enumerate(messages) if "resuming in" in m and "from its last checkpoint" in m)
    first_epoch_after = next(m for m in messages[resumed_at:] if m.startswith("epoch "))
    # The resumed run went on from the checkpoint (at most one epoch past the last one seen), not epoch 1.
    assert int(first_epoch_after.split()[1].split("/")[0]) > 1, first_epoch_after
    assert int(first_epoch_after.split()[1].split("/")[0]) <= killed_at + 2, first_epoch_after
    metrics = stack.http("GET", f"/api/v1/neural/train/{session_id}/metrics")[1]
    assert [row["epoch"] for row in metrics["epochs"]] == list(range(1, EPOCHS + 1))
    assert not (home / "checkpoints" / str(session_id)).exists()  # removed once the session ended
    assert stack.http("GET", f"/api/v1/neural/train/{session_id}")[1]["resumed_count"] == 1


class Embedded:
    """`make run`'s process, started and killed by the test."""

    def __init__(self, home: Path) -> None:
        self.home, self.port, self.proc, self.runs = home, _free_port(), None, 0
        self.logs = home / "logs"
        self.logs.mkdir(parents=True)
        drop = {"DATABASE_URL", "REDIS_URL", "CELERY_BROKER_URL", "CELERY_RESULT_BACKEND", "DJANGO_SECRET_KEY"}
        self.env = {k: v for k, v in os.environ.items() if k not in drop} | {
            "DJANGO_SETTINGS_MODULE": "photondrift.settings",
            "PHOTONDRIFT_HOME": str(home),
            "PORT": str(self.port),
            "PHOTONDRIFT_ADMIN_PASSWORD": "embedded-test-pass",
            # A restarted server resumes what it held at once (its previous life is over), so a
            # long stale time proves the restart does not wait for it.
            "TRAINING_STALE_AFTER_S": "600",
            "TRAINING_SWEEP_EVERY_S": "2",
            "ALERT_EVALUATION_EVERY_S": "2",
        }

    def start(self) -> None:
        self.runs += 1
        out = (self.logs / f"server-{self.runs}.log").open("w")
        self.proc = subprocess.Popen(
            [sys.executable, "-m", "photondrift.embedded"],
            cwd=settings.BASE_DIR,
            env=self.env,
            stdout=out,
            stderr=subprocess.STDOUT,
        )

    def token(self) -> str:
        """An API token for the admin the server made, written straight into its SQLite file as
        knox stores one (the SHA-512 digest of the key and its first 15 characters; a `manage.py
        neural token` process takes 20 s to start on a busy 2-core machine)."""
        key = secrets.token_hex(32)
        with closing(sqlite3.connect(self.home / "db.sqlite3", timeout=30)) as db, db:
            (admin,) = db.execute("SELECT id FROM auth_user WHERE username = 'admin'").fetchone()
            db.execute(
                "INSERT INTO knox_authtoken (digest, token_key, created, expiry, user_id)"
                " VALUES (?, ?, datetime('now'), NULL, ?)",
                (hashlib.sha512(key.encode()).hexdigest(), key[:15], admin),
            )
        return key

    def kill(self) -> None:
        self.proc.send_signal(signal.SIGKILL)
        self.proc.wait(timeout=10)

    def stop(self) -> None:
        if self.proc is not None and self.proc.poll() is None:
            self.proc.kill()
            self.proc.wait(timeout=10)


def _upload_small_dataset(stack: Stack) -> None:
    """400 generated coordination rows as a CSV upload (multipart, by hand: urllib has no encoder)."""
    from neural.datasets.generator import generate

    df, target = generate(pattern="coordination", rows=400, seed=5)
    fields = {"name": "small", "target": target, "pattern": "coordination", "format": "csv"}
    boundary = secrets.token_hex(12)
    parts = [f'--{boundary}\r\nContent-Disposition: form-data; name="{k}"\r\n\r\n{v}\r\n' for k, v in fields.items()]
    body = (
        "".join(parts).encode()
        + (
            f'--{boundary}\r\nContent-Disposition: form-data; name="file"; filename="small.csv"\r\n'
            "Content-Type: text/csv\r\n\r\n"
        ).encode()
    )
    body += df.to_csv(index=False).encode() + f"\r\n--{boundary}--\r\n".encode()
    request = urllib.request.Request(
        stack.base_url + "/api/v1/neural/datasets",
        data=body,
        method="POST",
        headers={"Authorization": f"Token {stack.token}", "Content-Type": f"multipart/form-data; boundary={boundary}"},
    )
    with urllib.request.urlopen(request, timeout=60) as res:
        assert res.status == 201


def _up(stack: Stack) -> bool:
    try:
        return stack.http("GET", "/healthz")[0] == 200
    except OSError:
        return False


@pytest.fixture
def embedded(tmp_path):
    server = Embedded(tmp_path / "home")
    try:
        yield server
    finally:
        server.stop()


def test_the_make_run_server_killed_mid_training_resumes_the_session_and_runs_the_schedule(embedded):
    embedded.start()
    stack = Stack(f"http://127.0.0.1:{embedded.port}", "", embedded.env, embedded.logs)
    _wait_for(lambda: _up(stack), "the embedded server", embedded.logs, timeout=180)
    stack.token = embedded.token()
    _upload_small_dataset(stack)
    code, body = stack.http(
        "POST",
        "/api/v1/neural/train",
        TRAIN,
    )
    assert code == 202, body
    session_id = body["session_id"]
    killed_at = _wait_for_epoch(stack, session_id, 3)["epoch"]
    embedded.kill()
    embedded.start()
    _assert_resumed_from_checkpoint(stack, session_id, killed_at, embedded.home)

    # The beat thread evaluates alert rules every ALERT_EVALUATION_EVERY_S: a rule fires with
    # nobody running `neural alerts` or any other command.
    code, rule = stack.http(
        "POST",
        "/api/v1/neural/alert-rules",
        {"model": "coordination", "kind": "latency_p99_above", "threshold": 0.0, "min_count": 1, "window_s": 3600},
    )
    assert code == 201, rule
    code, body = stack.http("POST", "/api/v1/neural/predict", {"model": "coordination", "input": COORDINATION_INPUT})
    assert code == 200, body

    def fired() -> bool:
        alerts = stack.http("GET", "/api/v1/neural/alerts")[1]
        return any(a.get("rule") == rule["id"] or "latency p99" in a.get("message", "") for a in alerts["results"])

    _wait_for(fired, "the latency alert to fire from the beat schedule", embedded.logs, timeout=60)


@pytest.mark.integration
def test_a_production_worker_killed_mid_training_is_resumed_by_a_second_worker(production_stack, tmp_path):
    from tests.factories import make_dataset

    make_dataset(name="small", rows=400, seed=5)
    code, body = production_stack.http(
        "POST",
        "/api/v1/neural/train",
        TRAIN,
    )
    assert code == 202, body
    session_id = body["session_id"]
    killed_at = _wait_for_epoch(production_stack, session_id, 3)["epoch"]
    first = production_stack.procs["worker"]
    first.send_signal(signal.SIGKILL)
    first.wait(timeout=10)
    # The second worker, at its start, finds the session silent for longer than its stale time.
    env = production_stack.env | {"TRAINING_STALE_AFTER_S": "2"}
    time.sleep(2)
    log = (production_stack.logs / "worker-2.log").open("w")
    second = subprocess.Popen(
        SECOND_WORKER,
        cwd=settings.BASE_DIR,
        env=env,
        stdout=log,
        stderr=subprocess.STDOUT,
    )
    try:
        _assert_resumed_from_checkpoint(production_stack, session_id, killed_at, tmp_path)
        assert _status(production_stack, session_id)["status"] == "succeeded"
    except BaseException:
        print(_log_tails(production_stack.logs))
        raise
    finally:
        second.terminate()
        second.wait(timeout=20)
