"""Prediction logs written off the request path.

``predict`` hands its log rows to ``log_writer.submit``; a daemon thread per process takes them
from a queue and writes them with ``bulk_create``, batching whatever accumulated meanwhile.
``flush()`` waits until everything queued so far is written (tests call it; it also runs at
interpreter exit). With ``settings.PREDICTION_LOG_ASYNC = False`` rows are written inline, in
the caller's transaction (the unit-test default, where a second connection cannot see the
test's uncommitted rows).
"""

from __future__ import annotations

import atexit
import logging
import os
import queue
import threading
import time

from django.conf import settings
from django.db import connection

from neural.monitoring.models import PredictionLog

logger = logging.getLogger(__name__)
MAX_ROWS_PER_WRITE = 5000


class PredictionLogWriter:
    def __init__(self) -> None:
        self._queue: queue.Queue[list[PredictionLog]] = queue.Queue(maxsize=10_000)
        self._thread: threading.Thread | None = None
        self._pid = 0
        self._start_lock = threading.Lock()
        self.written = 0
        self.failed = 0

    def submit(self, logs: list[PredictionLog]) -> None:
        if not getattr(settings, "PREDICTION_LOG_ASYNC", True):
            PredictionLog.objects.bulk_create(logs, batch_size=MAX_ROWS_PER_WRITE)
            self.written += len(logs)
            return
        self._ensure_thread()
        self._queue.put(logs)  # blocks when 10,000 requests are waiting: back-pressure, not loss

    def _ensure_thread(self) -> None:
        if self._thread is not None and self._thread.is_alive() and self._pid == os.getpid():
            return
        with self._start_lock:
            if self._thread is None or not self._thread.is_alive() or self._pid != os.getpid():
                if self._pid != os.getpid():
                    self._queue = queue.Queue(maxsize=10_000)  # a forked child starts empty
                self._pid = os.getpid()
                self._thread = threading.Thread(target=self._run, name="prediction-log-writer", daemon=True)
                self._thread.start()

    def _run(self) -> None:
        while True:
            batches = [self._queue.get()]
            rows = len(batches[0])
            while rows < MAX_ROWS_PER_WRITE:
                try:
                    batches.append(self._queue.get_nowait())
                except queue.Empty:
                    break
                rows += len(batches[-1])
            try:
                PredictionLog.objects.bulk_create([log for b in batches for log in b], batch_size=MAX_ROWS_PER_WRITE)
                self.written += rows
            except Exception:  # a background thread has no caller to raise to: count and log it
                self.failed += rows
                logger.exception("could not write %d prediction log rows", rows)
            finally:
                if self._queue.empty():
                    connection.close()  # idle: do not hold a database connection
                for _ in batches:
                    self._queue.task_done()

    def flush(self, timeout: float = 30.0) -> bool:
        """Wait until every row queued so far is written. Returns False on timeout."""
        deadline = time.monotonic() + timeout
        with self._queue.all_tasks_done:
            while self._queue.unfinished_tasks:
                remaining = deadline - time.monotonic()
                if remaining <= 0:
                    return False
                self._queue.all_tasks_done.wait(remaining)
        return True


log_writer = PredictionLogWriter()
atexit.register(log_writer.flush, 10.0)
