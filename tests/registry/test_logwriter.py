"""The prediction log writer: COPY text that survives awkward JSON, and the background thread."""

from __future__ import annotations

import uuid

import pytest

from neural.monitoring.models import PredictionLog
from neural.registry.logwriter import LogBatch, PredictionLogWriter, _copy_text, write_batches
from neural.registry.models import ModelVersion

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


def test_the_copy_text_has_one_line_and_five_columns_per_row():
    batch = LogBatch(version_id=7, ids=[uuid.uuid4() for _ in AWKWARD], inputs=AWKWARD, outputs=[{}, {}])
    lines = _copy_text([batch, batch]).split("\n")
    assert lines[-1] == "" and len(lines) == 5
    assert all(len(line.split("\t")) == 5 for line in lines[:-1])


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
