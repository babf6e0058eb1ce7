"""The laptop mode behind `make run`: one process serves the dashboard and API and runs a
Celery worker thread that consumes the file-based broker under PHOTONDRIFT_HOME, so a
`manage.py` command in another shell (same PHOTONDRIFT_HOME) reaches this worker.
"""

from __future__ import annotations

import logging
import os
import secrets
import sys
import threading

import django

logger = logging.getLogger("photondrift.embedded")

DEMO_DATASET = "demo-coordination"


def prepare() -> None:
    """Migrate, make the admin account, load the demo data set. Safe to run again."""
    from django.conf import settings
    from django.core.management import call_command

    call_command("migrate", interactive=False, verbosity=0)
    settings.STATIC_ROOT.mkdir(parents=True, exist_ok=True)
    ensure_admin()
    ensure_demo_dataset()


def ensure_admin() -> None:
    from django.contrib.auth import get_user_model

    User = get_user_model()
    if User.objects.filter(username="admin").exists():
        return
    password = os.environ.get("PHOTONDRIFT_ADMIN_PASSWORD") or secrets.token_urlsafe(12)
    User.objects.create_superuser("admin", "", password)
    if "PHOTONDRIFT_ADMIN_PASSWORD" not in os.environ:
        # Printed once, at creation; it is not stored anywhere in clear.
        print(f"\n  Created user 'admin' with password: {password}\n", flush=True)


def ensure_demo_dataset() -> None:
    # lazy: this module is imported before django.setup(); models load only after it
    from neural.datasets.generator import generate
    from neural.datasets.models import Dataset
    from neural.datasets.services import dataset_store_frame

    if Dataset.objects.filter(name=DEMO_DATASET).exists():
        return
    df, target = generate(pattern="coordination", rows=3000, seed=7)
    dataset_store_frame(df=df, name=DEMO_DATASET, target=target, pattern="coordination", source_format="generator")


def start_worker() -> threading.Thread:
    """A solo-pool Celery worker in a daemon thread (the same code path as `celery worker`)."""
    from photondrift.celery import app  # lazy: the Celery app reads Django settings on import

    worker = app.WorkController(
        hostname=f"embedded@{os.uname().nodename}",
        pool_cls="solo",
        concurrency=1,
        queues=["training", "default"],
        without_mingle=True,
        without_gossip=True,
        loglevel="INFO",
    )
    thread = threading.Thread(target=worker.start, name="celery-worker", daemon=True)
    thread.start()
    return thread


def main() -> None:
    os.environ.setdefault("DJANGO_SETTINGS_MODULE", "photondrift.settings")
    django.setup()
    import uvicorn
    from django.conf import settings

    prepare()
    start_worker()
    port = int(os.environ.get("PORT", "8000"))
    host = os.environ.get("HOST", "127.0.0.1")
    print(f"  PhotonDrift Neural: http://{host}:{port}/  (data in {settings.PHOTONDRIFT_HOME})", flush=True)
    uvicorn.run("photondrift.asgi:application", host=host, port=port, lifespan="off", log_level="warning")


if __name__ == "__main__":
    sys.exit(main())
