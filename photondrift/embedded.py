"""The laptop mode behind `make run`: one process serves the dashboard and API, runs a Celery
worker thread that consumes the file-based broker under PHOTONDRIFT_HOME (so a `manage.py`
command in another shell, same PHOTONDRIFT_HOME, reaches this worker) and a celery beat thread
that sends the periodic tasks (neural/periodic.py: alert evaluation, stale-session sweep, search
settler, per-model retraining) from django-celery-beat's tables, as `celery beat` does in
production.
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
    from django.contrib.auth import get_user_model, password_validation
    from django.core.exceptions import ValidationError

    User = get_user_model()
    if User.objects.filter(username="admin").exists():
        return
    password = os.environ.get("PHOTONDRIFT_ADMIN_PASSWORD") or secrets.token_urlsafe(12)
    try:
        # The same validators as every other account (settings.AUTH_PASSWORD_VALIDATORS).
        password_validation.validate_password(password, User(username="admin"))
    except ValidationError as exc:
        sys.stderr.write(f"PHOTONDRIFT_ADMIN_PASSWORD refused: {' '.join(exc.messages)}\n")
        raise SystemExit(2) from exc
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
        hostname=worker_hostname(),
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


def worker_hostname() -> str:
    return f"embedded@{os.uname().nodename}"


def sweep_at_start() -> None:
    """Whatever the previous life of this server was training died with it (``kill -9``): resume
    it from its checkpoint now, before the worker takes new work (see neural/training/sweep.py)."""
    from django.utils import timezone

    # lazy: embedded sets DJANGO_SETTINGS_MODULE and calls django.setup() before any model import
    from neural.training.sweep import training_sessions_sweep

    training_sessions_sweep(orphaned_by=worker_hostname(), since=timezone.now())


def start_beat() -> threading.Thread:
    """celery beat in a daemon thread, reading the schedule from the database."""
    from celery import beat

    # lazy: the Celery app reads settings, configured only in main()
    from photondrift.celery import app

    service = beat.EmbeddedService(app, thread=True, scheduler_cls="django_celery_beat.schedulers:DatabaseScheduler")
    service.start()
    return service


def main() -> None:
    os.environ.setdefault("DJANGO_SETTINGS_MODULE", "photondrift.settings")
    # This server speaks plain HTTP on this machine: no HTTPS redirect, HSTS or Secure cookies.
    os.environ.setdefault("DJANGO_HTTPS", "false")
    django.setup()
    import uvicorn
    from django.conf import settings

    prepare()
    sweep_at_start()
    start_worker()
    if settings.EMBEDDED_BEAT:
        start_beat()
    port = int(os.environ.get("PORT", "8000"))
    host = os.environ.get("HOST", "127.0.0.1")
    print(f"  PhotonDrift Neural: http://{host}:{port}/  (data in {settings.PHOTONDRIFT_HOME})", flush=True)
    uvicorn.run("photondrift.asgi:application", host=host, port=port, lifespan="off", log_level="warning")


if __name__ == "__main__":
    sys.exit(main())
