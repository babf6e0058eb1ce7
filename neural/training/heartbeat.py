"""Worker liveness: each Celery worker writes a heartbeat row; `--wait` checks it.

Used instead of a broadcast ping because the embedded file-based broker has no fanout.
``start_heartbeat`` and ``stop_heartbeat`` are connected to Celery's worker signals in
``TrainingConfig.ready``.
"""

from __future__ import annotations

import logging
import threading

from django.conf import settings
from django.db import close_old_connections

from neural.training.models import WorkerHeartbeat
from neural.training.services import worker_heartbeat

logger = logging.getLogger(__name__)
_stop = threading.Event()


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
    _stop.clear()
    threading.Thread(target=_beat, args=(sender.hostname,), name="photondrift-heartbeat", daemon=True).start()


def stop_heartbeat(sender=None, **kwargs) -> None:
    _stop.set()
    try:
        WorkerHeartbeat.objects.filter(hostname=sender.hostname).delete()
    except Exception:
        logger.exception("could not remove the heartbeat row of %s", sender.hostname)
