"""Rows written straight into the embedded server's own database (its SQLite file under its
PHOTONDRIFT_HOME) by a short Django process with the server's environment: a table of many runs
without training them."""

from __future__ import annotations

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
