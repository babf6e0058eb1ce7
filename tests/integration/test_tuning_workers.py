"""A hyperparameter search spread over processes through the shared database: the CLI queues the
job for a real `celery worker`, and this test process joins in as a second runner."""

from __future__ import annotations

import json
import subprocess
import sys
import threading
import time

import pytest
from django.db import connection

from neural.training.models import TuningJob
from neural.training.tuning import tuning_job_run, tuning_report
from tests.factories import make_dataset, train_here

pytestmark = [pytest.mark.integration, pytest.mark.slow]


def test_a_search_shares_its_trials_between_a_real_worker_and_another_process(production_stack, settings):
    train_here(dataset=make_dataset(name="tune", rows=1500), model_name="tuned", epochs=3)
    cli = subprocess.Popen(
        [sys.executable, "manage.py", "neural", "hyper-optimize", "--model", "tuned", "--method", "random",
         "--trials", "8", "--epochs", "4", "--json"],
        cwd=settings.BASE_DIR, env={**production_stack.env, "TUNING_TASKS": "1"},
        stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True,
    )  # fmt: skip
    deadline = time.monotonic() + 60
    while not TuningJob.objects.exists():
        assert time.monotonic() < deadline and cli.poll() is None, cli.stderr.read() if cli.poll() else "no job"
        time.sleep(0.05)
    job = TuningJob.objects.get()

    def join_in() -> None:
        try:
            tuning_job_run(job_id=job.pk, ran_in="test-process")
        finally:
            connection.close()  # this thread's own connection, or the test database cannot be dropped

    here = threading.Thread(target=join_in)
    here.start()
    out, err = cli.communicate(timeout=300)
    here.join(timeout=300)
    assert cli.returncode == 0, err
    body = json.loads(out)
    job.refresh_from_db()
    assert body["status"] == job.status == "succeeded" and job.trials_claimed == 8
    assert body["counts"]["running"] == 0 and sum(body["counts"].values()) == 8
    runners = {t["ran_in"] for t in body["trials"]}
    assert "test-process" in runners and any(r.startswith("itest@") for r in runners), runners
    assert tuning_report(job=job)["best"]["value"] == max(
        t["value"] for t in body["trials"] if t["state"] == "complete"
    )
