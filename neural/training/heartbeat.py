"""Worker liveness: each Celery worker writes a heartbeat row; `--wait` checks it.

Used instead of a broadcast ping because the embedded file-based broker has no fanout.
``start_heartbeat`` and ``stop_heartbeat`` are connected to Celery's worker signals in
``TrainingConfig.ready``.
"""

from __future__ import annotations

import logging
import threading
from datetime import datetime

from django.conf import settings
from django.db import close_old_connections
from django.utils import timezone

from neural.training.models import WorkerHeartbeat

logger = logging.getLogger(__name__)
_stop = threading.Event()
_started: dict = {}


def worker_heartbeat(*, hostname: str) -> None:
    WorkerHeartbeat.objects.update_or_create(hostname=hostname, defaults={"last_seen": timezone.now()})


def worker_name() -> str:
    """This process's worker name (``embedded@host``, ``itest@host``), "" outside a worker. Celery's
    own ``request.hostname`` says only the host in a worker started in a thread (embedded mode)."""
    return _started.get("hostname", "")


def worker_started_at() -> datetime:
    """When this process's worker started (now, if none did): a session this worker's name
    claimed before then belongs to its previous life."""
    return _started.get("at") or timezone.now()


def _beat(hostname: str) -> None:
    while not _stop.is_set():
        try:
            worker_heartbeat(hostname=hostname)
        except Exception:
            logger.exception("worker heartbeat failed; will retry")
        finally:
            close_old_connections()
        _stop.wait(settings.WORKER_HEARTBEAT_S)


def start_heartbeat(sender=None, **kwargs) -> None:
    _started.update(at=timezone.now(), hostname=sender.hostname)
    _stop.clear()
    threading.Thread(target=_beat, args=(sender.hostname,), name="photondrift-heartbeat", daemon=True).start()


def stop_heartbeat(sender=None, **kwargs) -> None:
    _stop.set()
    try:
        WorkerHeartbeat.objects.filter(hostname=sender.hostname).delete()
    except Exception:
        logger.exception("could not remove the heartbeat row of %s", sender.hostname)
