"""Rows written straight into the embedded server's own database (its SQLite file under its
PHOTONDRIFT_HOME) by a short Django process with the server's environment: a table of many runs
without training them, or long sessions the way the ORM writes them."""

from __future__ import annotations

import json
import subprocess

from .server import REPO_ROOT, EmbeddedServer, python_executable

SEED_RUNS = """
import sys
from datetime import timedelta
import django
django.setup()
from django.utils import timezone
from neural.datasets.models import Dataset
from neural.training.models import TrainingSession
n = int(sys.argv[1])
dataset = Dataset.objects.get(name="demo-coordination")
now = timezone.now()
TrainingSession.objects.bulk_create(
    TrainingSession(
        name=f"run-{i:03d}", dataset=dataset, pattern="coordination", model_name=f"model-{i % 3}", config={},
        status=("succeeded", "failed")[i % 2], epoch=10, epochs=10, metrics={"val_accuracy": i / (2 * n)},
        started_at=now - timedelta(minutes=n - i), finished_at=now - timedelta(minutes=n - i, seconds=-30),
    )
    for i in range(n)
)
"""


def seed_runs(server: EmbeddedServer, n: int) -> None:
    """``n`` finished runs named run-000.. with val_accuracy rising by name; odd ones failed."""
    subprocess.run(
        [python_executable(), "-c", SEED_RUNS, str(n)], env=server.env, cwd=REPO_ROOT, check=True, timeout=120
    )


SEED_SESSIONS = """
import json, math, sys
import django
django.setup()
from neural.datasets.models import Dataset
from neural.training.models import EpochMetric, TrainingSession
from neural.training.series import epoch_summaries_rebuild
out = []
for spec in json.loads(sys.argv[1]):
    n, spike = spec["epochs"], spec.get("spike_at")
    s = TrainingSession.objects.create(
        name=spec["name"], dataset=Dataset.objects.get(name="demo-coordination"), pattern="coordination",
        model_name=spec["name"], config={"epochs": n, "learning_rate": spec.get("lr", 0.002), "batch_size": 256},
        epochs=n, epoch=n, status="succeeded",
    )
    rows = []
    for e in range(1, n + 1):
        loss = 0.3 + spec.get("scale", 1.0) / math.sqrt(e) + (3.0 if e == spike else 0.0)
        m = {"train_loss": loss, "val_loss": loss * 1.1, "val_accuracy": 1 - loss / 4, "elapsed_s": e * 0.1}
        rows.append(EpochMetric(session=s, epoch=e, train_loss=loss, val_loss=loss * 1.1, lr=0.002,
                                elapsed_s=e * 0.1, metrics=m, is_best=(e == n)))
    EpochMetric.objects.bulk_create(rows, batch_size=2000)
    epoch_summaries_rebuild(session_id=s.pk)
    out.append(s.pk)
print(json.dumps(out))
"""


def seed_sessions(server: EmbeddedServer, specs: list[dict]) -> list[int]:
    """Create finished sessions ``{name, epochs, spike_at?, scale?, lr?}``; returns their ids."""
    done = subprocess.run(
        [python_executable(), "-c", SEED_SESSIONS, json.dumps(specs)],
        cwd=REPO_ROOT,
        env=server.env,
        capture_output=True,
        text=True,
        timeout=300,
    )
    if done.returncode != 0:
        raise AssertionError(f"seeding failed:\n{done.stderr[-3000:]}")
    return json.loads(done.stdout.strip().splitlines()[-1])
