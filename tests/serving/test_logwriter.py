"""The prediction log writer: COPY text that survives awkward JSON, and the background thread."""

from __future__ import annotations

import threading
import time
import uuid

import pytest
from django.core.management import call_command
from django.db import connection, transaction

from neural.monitoring.models import Feedback
from neural.monitoring.services import feedback_record
from neural.registry.models import ModelVersion
from neural.registry.services import model_delete
from neural.serving import services as serving
from neural.serving.logwriter import LogBatch, PredictionLogWriter, _copy_text, new_ids, write_batches
from neural.serving.models import PredictionLog
from tests.serving.test_services import rows

AWKWARD = [
    {"path": "C:\\temp\\new", "quote": 'say "hi"', "tab": "a\tb", "line": "a\nb\r\nc", "unicode": "zürich ☃ \u2028"},
    {"nested": {"list": [1, 2.5, None, True]}, "backslash_n": "\\n", "empty": ""},
]


def test_it_writes_rows_whose_json_holds_backslashes_tabs_and_newlines(trained):
    version = ModelVersion.objects.get(model__name="coord-model")
    ids = [uuid.uuid4() for _ in AWKWARD]
    outputs = [{"prediction": "a\\b", "probabilities": {"x\ty": 0.5}}, {"prediction": 3.25}]
    write_batches([LogBatch(version_id=version.pk, ids=ids, inputs=AWKWARD, outputs=outputs)])
    stored = {row.id: row for row in PredictionLog.objects.filter(pk__in=ids)}
    assert [stored[i].inputs for i in ids] == AWKWARD
    assert [stored[i].output for i in ids] == outputs
    assert all(stored[i].model_version_id == version.pk for i in ids)


def test_the_copy_text_has_one_line_and_six_columns_per_row():
    batch = LogBatch(version_id=7, ids=[uuid.uuid4() for _ in AWKWARD], inputs=AWKWARD, outputs=[{}, {}])
    timed = LogBatch(
        version_id=7, ids=[uuid.uuid4() for _ in AWKWARD], inputs=AWKWARD, outputs=[{}, {}], latency_ms=1.5
    )
    lines = _copy_text([batch, timed]).split("\n")
    assert lines[-1] == "" and len(lines) == 5
    assert all(len(line.split("\t")) == 6 for line in lines[:-1])
    assert [line.split("\t")[-1] for line in lines[:-1]] == ["", "", "1.5", "1.5"]  # '' is COPY's NULL here


@pytest.mark.django_db(transaction=True)
def test_a_writer_thread_batches_what_accumulates_and_flush_waits_for_it(trained, settings):
    settings.PREDICTION_LOG_ASYNC = True
    version = ModelVersion.objects.get(model__name="coord-model")
    writer = PredictionLogWriter()
    ids = [[uuid.uuid4() for _ in range(3)] for _ in range(20)]
    for batch_ids in ids:
        writer.submit(LogBatch(version_id=version.pk, ids=batch_ids, inputs=[{"a": 1}] * 3, outputs=[{"p": 0}] * 3))
    assert writer.flush(timeout=30)
    assert writer.written == 60 and writer.failed == 0
    assert PredictionLog.objects.filter(pk__in=[i for b in ids for i in b]).count() == 60


@pytest.mark.django_db(transaction=True)
def test_a_failed_write_is_counted_and_the_writer_carries_on(trained, settings):
    settings.PREDICTION_LOG_ASYNC = True
    version = ModelVersion.objects.get(model__name="coord-model")
    writer = PredictionLogWriter()
    taken = uuid.uuid4()
    writer.submit(LogBatch(version_id=version.pk, ids=[taken], inputs=[{}], outputs=[{}]))
    assert writer.flush(timeout=30)
    writer.submit(LogBatch(version_id=version.pk, ids=[taken], inputs=[{}], outputs=[{}]))  # duplicate key
    assert writer.flush(timeout=30)
    fresh = uuid.uuid4()
    writer.submit(LogBatch(version_id=version.pk, ids=[fresh], inputs=[{}], outputs=[{}]))
    assert writer.flush(timeout=30)
    assert (writer.written, writer.failed) == (2, 1)
    assert PredictionLog.objects.filter(pk=fresh).exists()


@pytest.mark.parametrize("n", [1, 5, 31, 32, 2000])
def test_it_makes_unique_time_ordered_version_7_ids(n):
    before = time.time_ns() // 1_000_000
    ids = new_ids(n)
    after = time.time_ns() // 1_000_000
    parsed = [uuid.UUID(i) for i in ids]
    assert [str(u) for u in parsed] == ids  # canonical lower-case text
    assert len(set(ids)) == n
    assert {u.version for u in parsed} == {7} and {u.variant for u in parsed} == {uuid.RFC_4122}
    assert all(before <= u.int >> 80 <= after for u in parsed)  # the first 48 bits: Unix time in ms
    assert len({u.int & ((1 << 74) - 1) for u in parsed}) == n  # and random bits after it


def test_it_drops_the_rows_of_a_version_deleted_before_the_write(trained):
    version = ModelVersion.objects.get(model__name="coord-model")
    gone = ModelVersion.objects.order_by("-pk").first().pk + 1000
    live, dead = [uuid.uuid4() for _ in range(3)], [uuid.uuid4() for _ in range(2)]
    written = write_batches(
        [
            LogBatch(version_id=gone, ids=dead, inputs=[{}] * 2, outputs=[{}] * 2),
            LogBatch(version_id=version.pk, ids=live, inputs=[{}] * 3, outputs=[{}] * 3),
        ]
    )
    assert written == 3
    assert set(PredictionLog.objects.values_list("pk", flat=True)) == set(live)


def test_neural_delete_force_removes_the_versions_logs_and_their_feedback(trained):
    _, results = serving.predict(model_ref="coord-model", records=rows(trained.dataset, 4))
    feedback_record(prediction_id=results[0]["prediction_id"], actual=True)
    assert PredictionLog.objects.count() == 4 and Feedback.objects.count() == 1
    call_command("neural", "delete", "--model", "coord-model", "--force", "--json")
    assert PredictionLog.objects.count() == 0 and Feedback.objects.count() == 0


@pytest.mark.django_db(transaction=True)
def test_rows_committed_while_their_version_is_deleted_are_deleted_too(trained):
    """The write holds its version FOR KEY SHARE; the deletion's cascade has already read the
    log by the time its DELETE waits for that lock, and must still leave no row behind."""
    version = ModelVersion.objects.get(model__name="coord-model")
    ids = new_ids(3)
    written, release, errors = threading.Event(), threading.Event(), []

    def write() -> None:
        try:
            with transaction.atomic():
                write_batches([LogBatch(version_id=version.pk, ids=ids, inputs=[{}] * 3, outputs=[{}] * 3)])
                written.set()
                release.wait(10)  # the lock is held until this transaction commits
        except Exception as exc:  # reported by the test below
            errors.append(exc)
        finally:
            connection.close()

    def delete() -> None:
        try:
            model_delete(model=version.model, force=True)
        except Exception as exc:
            errors.append(exc)
        finally:
            connection.close()

    writer = threading.Thread(target=write)
    writer.start()
    assert written.wait(10)
    deleter = threading.Thread(target=delete)
    deleter.start()
    time.sleep(0.5)  # the deletion reads the (still empty) log, then waits for the lock
    assert deleter.is_alive()
    release.set()
    writer.join(10)
    deleter.join(10)
    assert errors == []
    assert not ModelVersion.objects.filter(pk=version.pk).exists()
    assert PredictionLog.objects.filter(model_version_id=version.pk).count() == 0
