"""The Celery app. Both run modes use it; only the broker URL differs (see settings)."""

from __future__ import annotations

import os
from pathlib import Path

from celery import Celery

os.environ.setdefault("DJANGO_SETTINGS_MODULE", "photondrift.settings")

app = Celery("photondrift")
app.config_from_object("django.conf:settings", namespace="CELERY")
app.autodiscover_tasks()


def ensure_broker_folders() -> None:
    """The file-based transport needs its folders; producer and worker both make sure."""
    for key in ("data_folder_in", "data_folder_out", "control_folder", "processed_folder"):
        folder = (app.conf.broker_transport_options or {}).get(key)
        if folder:
            Path(folder).mkdir(parents=True, exist_ok=True, mode=0o700)
