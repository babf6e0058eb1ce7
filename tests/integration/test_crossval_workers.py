"""A cross-validation's folds spread over processes: the REST request queues one task per fold for
a real `celery worker`, and this test process takes folds too (each fold is claimed once, so the
worker's message for a fold already taken does nothing); the last fold to end writes the summary."""

from __future__ import annotations

import threading
import time

import pytest
from django.db import connection

from neural.training.crossval import cross_validation_fold_run
from tests.factories import make_dataset

pytestmark = [pytest.mark.integration, pytest.mark.slow]


def test_the_folds_of_one_cross_validation_run_in_two_processes(production_stack):
    make_dataset(name="cv", rows=1200)
    code, body = production_stack.http(
        "POST", "/api/v1/neural/cross-validations",
        {"pattern_type": "coordination", "training_data": "cv", "folds": 4, "epochs": 4, "stratified": True},
    )  # fmt: skip
    assert code == 202, body
    cv_id = body["cross_validation_id"]

    def join_in() -> None:
        try:
            for index in (3, 2, 1, 0):  # from the other end than the worker's queue
                cross_validation_fold_run(cv_id=cv_id, index=index, ran_in="test-process")
        finally:
            connection.close()  # this thread's own connection, or the test database cannot be dropped

    here = threading.Thread(target=join_in)
    here.start()
    deadline = time.monotonic() + 240
    while True:
        code, body = production_stack.http("GET", f"/api/v1/neural/cross-validations/{cv_id}")
        if body["status"] in ("succeeded", "failed") or time.monotonic() > deadline:
            break
        time.sleep(0.5)
    here.join(timeout=240)
    assert body["status"] == "succeeded", f"{body}\n{production_stack.log_tails()}"
    runners = {f["ran_in"] for f in body["fold_results"]}
    assert "test-process" in runners and any(r.startswith("itest@") for r in runners), runners
    assert len(body["summary"]["accuracy"]["values"]) == 4
    assert sum(f["test_rows"] for f in body["fold_results"]) == 1200
