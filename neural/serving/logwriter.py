"""Prediction logs written off the request path.

``predict`` hands a ``LogBatch`` (ids, inputs and outputs as plain Python, no model instances)
to ``log_writer.submit``; a daemon thread per process takes batches from a queue, lets a few
milliseconds' worth accumulate, and writes them in one statement: ``COPY`` on PostgreSQL (JSON
encoded with orjson), ``bulk_create`` elsewhere. ``flush()`` waits until everything queued so far
is written (tests call it; it also runs at interpreter exit). With
``settings.PREDICTION_LOG_ASYNC = False`` rows are written inline, in the caller's transaction
(the unit-test default, where a second connection cannot see the test's uncommitted rows).

The log table has no foreign-key constraint on ``model_version`` (checked once per row, it was
about half of PostgreSQL's work per batch). Each write instead locks the versions it names
``FOR KEY SHARE`` in its own transaction and drops the rows of a version already deleted; a
deletion that waited for that lock then removes the rows written meanwhile (``version_deleted``),
so ``neural delete`` leaves no rows behind either way. Row ids come from ``new_ids``: UUIDs whose
first 48 bits are the time in milliseconds (version 7), which keeps the primary-key index's
inserts at its right edge instead of scattered over it.
"""

from __future__ import annotations

import atexit
import logging
import os
import queue
import threading
import time
import uuid
from dataclasses import dataclass, field
from datetime import datetime

import numpy as np
import orjson
from django.conf import settings
from django.db import connection, transaction
from django.utils import timezone

from neural.registry.models import ModelVersion
from neural.serving.models import PredictionLog

logger = logging.getLogger(__name__)
MAX_ROWS_PER_WRITE = 5000
LINGER_S = 0.1  # collect what arrives meanwhile (one write per burst), after the response is out
IDLE_CLOSE_S = 1.0  # close the database connection after this long with nothing to write


@dataclass
class LogBatch:
    """The log rows of one request: ``outputs[i]`` is what ``inputs[i]`` was answered with."""

    version_id: int
    ids: list[str] | list[uuid.UUID]  # the rows' primary keys
    inputs: list[dict]
    outputs: list[dict]
    created_at: datetime = field(default_factory=timezone.now)
    latency_ms: float | None = None  # server time to answer the request, for every row of it

    def __len__(self) -> int:
        return len(self.ids)


_HEX_DIGITS = np.frombuffer(b"0123456789abcdef", dtype=np.uint8)
_HEX_COLUMNS = np.r_[0:8, 9:13, 14:18, 19:23, 24:36]  # where the digits go in 8-4-4-4-12


def new_ids(n: int) -> list[str]:
    """``n`` UUIDs (version 7, RFC 9562): 48 bits of Unix time in ms, then 74 random bits.

    Row ids of the prediction log, in the canonical text form. Large batches are spelled out by
    numpy as one block of text, split once (~1.5 ms for 10,000, ~15x faster than
    ``str(uuid.uuid4())`` per row); a few rows as plain strings.
    """
    ms = (time.time_ns() // 1_000_000).to_bytes(6, "big")
    if n < 32:
        t = ms.hex()
        out = []
        for _ in range(n):
            r = os.urandom(10).hex()
            out.append(f"{t[:8]}-{t[8:]}-7{r[1:4]}-{'89ab'[int(r[4], 16) & 3]}{r[5:8]}-{r[8:]}")
        return out
    raw = np.frombuffer(os.urandom(16 * n), dtype=np.uint8).reshape(n, 16).copy()
    raw[:, :6] = np.frombuffer(ms, dtype=np.uint8)
    raw[:, 6] = (raw[:, 6] & 0x0F) | 0x70  # version 7
    raw[:, 8] = (raw[:, 8] & 0x3F) | 0x80  # RFC variant
    nibbles = np.empty((n, 32), dtype=np.uint8)
    nibbles[:, 0::2], nibbles[:, 1::2] = raw >> 4, raw & 0x0F
    text = np.full((n, 37), ord("-"), dtype=np.uint8)  # 36 characters and a newline per id
    text[:, 36] = ord("\n")
    text[:, _HEX_COLUMNS] = _HEX_DIGITS[nibbles]
    return text.tobytes().decode("ascii").split("\n")[:n]


def _json(value: object) -> str:
    return orjson.dumps(value, option=orjson.OPT_SERIALIZE_NUMPY).decode()


def write_batches(batches: list[LogBatch]) -> int:
    """Insert every row of ``batches`` with one statement, on the current thread's connection.

    Rows of a version deleted before the write are dropped (logged). Returns the rows written.
    """
    with transaction.atomic():
        kept = _live_batches(batches)
        _insert(kept)
    return sum(len(b) for b in kept)


def _live_batches(batches: list[LogBatch]) -> list[LogBatch]:
    """The batches whose version still exists, locked until the write commits (PostgreSQL)."""
    wanted = sorted({int(b.version_id) for b in batches})
    if connection.vendor == "postgresql":
        table = connection.ops.quote_name(ModelVersion._meta.db_table)
        with connection.cursor() as cursor:
            # FOR KEY SHARE: what the foreign-key check took per row, taken once per write.
            cursor.execute(f"SELECT id FROM {table} WHERE id = ANY(%s::bigint[]) FOR KEY SHARE", [wanted])
            live = {row[0] for row in cursor.fetchall()}
    else:
        live = set(ModelVersion.objects.filter(pk__in=wanted).values_list("pk", flat=True))
    if len(live) < len(wanted):
        gone = [b for b in batches if int(b.version_id) not in live]
        logger.warning(
            "dropped %d prediction log rows of deleted versions %s",
            sum(len(b) for b in gone),
            sorted(set(wanted) - live),
        )
    return [b for b in batches if int(b.version_id) in live]


def _insert(batches: list[LogBatch]) -> None:
    if not batches:
        return
    if connection.vendor != "postgresql":
        PredictionLog.objects.bulk_create(
            [
                PredictionLog(
                    id=i,
                    model_version_id=b.version_id,
                    inputs=x,
                    output=y,
                    created_at=b.created_at,
                    latency_ms=b.latency_ms,
                )
                for b in batches
                for i, x, y in zip(b.ids, b.inputs, b.outputs, strict=True)
            ],
            batch_size=MAX_ROWS_PER_WRITE,
        )
        return
    meta, qn = PredictionLog._meta, connection.ops.quote_name
    columns = [
        meta.get_field(name).column for name in ("id", "model_version", "inputs", "output", "created_at", "latency_ms")
    ]
    # NULL '': no JSON text, id or timestamp is ever empty, and the backslash doubling in
    # _copy_text would turn COPY's default NULL marker into a literal.
    sql = f"COPY {qn(meta.db_table)} ({', '.join(qn(c) for c in columns)}) FROM STDIN (NULL '')"
    with connection.cursor() as cursor, cursor.cursor.copy(sql) as copy:
        copy.write(_copy_text(batches))


def _copy_text(batches: list[LogBatch]) -> str:
    """The rows in COPY's text format, built as one string (a row at a time costs far more).

    JSON escapes every control character, so tabs and newlines appear only as separators; a
    backslash (only inside JSON escapes) must be doubled for COPY, over the whole text at once:
    ids, numbers and timestamps hold none.
    """
    lines = []
    for b in batches:
        latency = "" if b.latency_ms is None else repr(float(b.latency_ms))  # '' is NULL (below)
        tail = f"\t{b.created_at.isoformat()}\t{latency}\n"
        head = f"\t{int(b.version_id)}\t"
        lines.extend(
            f"{i}{head}{_json(x)}\t{_json(y)}{tail}" for i, x, y in zip(b.ids, b.inputs, b.outputs, strict=True)
        )
    return "".join(lines).replace("\\", "\\\\")


class PredictionLogWriter:
    def __init__(self) -> None:
        self._queue: queue.Queue[LogBatch] = queue.Queue(maxsize=10_000)
        self._thread: threading.Thread | None = None
        self._pid = 0
        self._start_lock = threading.Lock()
        self.written = 0
        self.failed = 0
        self.dropped = 0  # rows of versions deleted before their write

    def submit(self, batch: LogBatch) -> None:
        if not settings.PREDICTION_LOG_ASYNC:
            written = write_batches([batch])
            self.written += written
            self.dropped += len(batch) - written
            return
        self._ensure_thread()
        self._queue.put(batch)  # blocks when 10,000 requests are waiting: back-pressure, not loss

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

    def _collect(self) -> list[LogBatch]:
        """The next batch, then whatever else arrives within LINGER_S (up to MAX_ROWS_PER_WRITE)."""
        while True:
            try:
                batches = [self._queue.get(timeout=IDLE_CLOSE_S)]
                break
            except queue.Empty:
                connection.close()  # idle: do not hold a database connection
        rows, deadline = len(batches[0]), time.monotonic() + LINGER_S
        while rows < MAX_ROWS_PER_WRITE:
            remaining = deadline - time.monotonic()
            try:
                batches.append(self._queue.get(timeout=remaining) if remaining > 0 else self._queue.get_nowait())
            except queue.Empty:
                break
            rows += len(batches[-1])
        return batches

    def _run(self) -> None:
        while True:
            batches = self._collect()
            rows = sum(len(b) for b in batches)
            try:
                written = write_batches(batches)
                self.written += written
                self.dropped += rows - written
            except Exception:  # a background thread has no caller to raise to: count and log it
                self.failed += rows
                logger.exception("could not write %d prediction log rows", rows)
                connection.close()  # a broken connection is not reused
            finally:
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


def version_deleted(sender, instance: ModelVersion, **kwargs) -> None:
    """Receiver (``ServingConfig.ready``): delete the log rows of a deleted version that its
    cascade did not see.

    Django's cascade deletes the rows it finds before the version's own DELETE; a write that
    held the version ``FOR KEY SHARE`` makes that DELETE wait and commits rows the cascade never
    saw. Read after the DELETE, they are found here (usually none: one indexed query).
    """
    PredictionLog.objects.filter(model_version_id=instance.pk).delete()


log_writer = PredictionLogWriter()
atexit.register(log_writer.flush, 10.0)
