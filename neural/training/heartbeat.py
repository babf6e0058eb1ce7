"""Worker liveness: each Celery worker writes a heartbeat row; `--wait` checks it.

Used instead of a broadcast ping because the embedded file-based broker has no fanout.
"""

from __future__ import annotations

import logging
import threading
from datetime import datetime

from celery.signals import worker_init, worker_shutdown
from django.conf import settings
from django.db import close_old_connections
from django.utils import timezone

logger = logging.getLogger(__name__)
_stop = threading.Event()
_started: dict = {}


def worker_name() -> str:
    """This process's worker name (``embedded@host``, ``itest@host``), "" outside a worker. Celery's
    own ``request.hostname`` says only the host in a worker started in a thread (embedded mode)."""
    return _started.get("hostname", "")


def worker_started_at() -> datetime:
    """When this process's worker started (now, if none did): a session this worker's name
    claimed before then belongs to its previous life."""
    return _started.get("at") or timezone.now()


def _beat(hostname: str) -> None:
    from neural.training.services import worker_heartbeat

    while not _stop.is_set():
        try:
            worker_heartbeat(hostname=hostname)
        except Exception:
            logger.exception("worker heartbeat failed; will retry")
        finally:
            close_old_connections()
        _stop.wait(settings.WORKER_HEARTBEAT_S)


@worker_init.connect
def start_heartbeat(sender=None, **kwargs) -> None:
    _started.update(at=timezone.now(), hostname=sender.hostname)
    _stop.clear()
    threading.Thread(target=_beat, args=(sender.hostname,), name="photondrift-heartbeat", daemon=True).start()


@worker_shutdown.connect
def stop_heartbeat(sender=None, **kwargs) -> None:
    _stop.set()
    from neural.training.models import WorkerHeartbeat

    try:
        WorkerHeartbeat.objects.filter(hostname=sender.hostname).delete()
    except Exception:
        logger.exception("could not remove the heartbeat row of %s", sender.hostname)
