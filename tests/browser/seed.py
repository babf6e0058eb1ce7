"""Seed long sessions into an embedded server's own database (its SQLite under its home), the
way the ORM writes them, from a subprocess with the server's environment."""

from __future__ import annotations

import json
import subprocess

from .server import REPO_ROOT, EmbeddedServer, python_executable

SCRIPT = """
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
        [python_executable(), "-c", SCRIPT, json.dumps(specs)],
        cwd=REPO_ROOT,
        env=server.env,
        capture_output=True,
        text=True,
        timeout=300,
    )
    if done.returncode != 0:
        raise AssertionError(f"seeding failed:\n{done.stderr[-3000:]}")
    return json.loads(done.stdout.strip().splitlines()[-1])
