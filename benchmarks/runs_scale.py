"""The `--config` runs, cross-validations and searches at 10,000 of each (and 10,000 sessions): the
runs and cross-validations APIs (first and 50th page, one detail), the /cross-validations/ page and
one cross-validation's page, the /searches/ page (first and last), the sessions page filtered by
run. Each median is printed with its ratio to the sessions list API (GET train, 10,000 sessions)
timed in the same process.

Seeds the database named by DATABASE_URL once (bulk_create), so point it at a throwaway one::

    createdb -h 127.0.0.1 -U postgres pd_scalecv
    DATABASE_URL=postgres://postgres@127.0.0.1:5432/pd_scalecv PHOTONDRIFT_HOME=/tmp/pd_scalecv_home \
        DJANGO_HTTPS=false STATIC_MANIFEST=false .venv/bin/python benchmarks/runs_scale.py
"""

from __future__ import annotations

import os
import statistics
import sys
import time
from pathlib import Path

import django

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))
N = 10_000
URLS = [  # (url, through the API with a token); the first is the baseline
    ("/api/v1/neural/train", True),
    ("/api/v1/neural/runs", True),
    ("/api/v1/neural/runs?page=50", True),
    ("/api/v1/neural/runs/{run}", True),
    ("/api/v1/neural/cross-validations", True),
    ("/api/v1/neural/cross-validations/{cv}", True),
    ("/cross-validations/", False),
    ("/cross-validations/{cv}/", False),
    ("/api/v1/neural/cross-validations/7", True),  # one whose sessions exist (seed(): ids 1-50)
    ("/searches/", False),
    ("/searches/?page=200", False),
    ("/sessions/?run={run}", False),
]


def seed() -> None:
    from neural.training.models import CrossValidation, TrainingRun, TrainingSession  # lazy: after django.setup()
    from tests.factories import make_dataset  # lazy: after django.setup()

    seed_searches()
    if TrainingRun.objects.count() >= N:
        return
    ds = make_dataset(name="scale-cv", rows=400)
    runs = TrainingRun.objects.bulk_create([TrainingRun(source=f"f{i}.yml", config={"advanced": {}}) for i in range(N)])
    TrainingSession.objects.bulk_create(
        TrainingSession(
            dataset=ds,
            pattern="coordination",
            model_name="m",
            config={"epochs": 1, "cross_validation_id": i % 50 + 1},
            epochs=1,
            run=runs[i],
        )
        for i in range(N)
    )
    summary = {"accuracy": {"mean": 0.8, "sd": 0.01, "ci_low": 0.79, "ci_high": 0.81}}
    CrossValidation.objects.bulk_create(
        CrossValidation(
            dataset=ds,
            pattern="coordination",
            model_name="m",
            config={},
            task="binary",
            method="kfold",
            folds=5,
            seed=0,
            rows=400,
            status="succeeded",
            summary=summary,
        )
        for _ in range(N)
    )


def seed_searches() -> None:
    """10,000 searches of one trained version (the version trains for one epoch, here)."""
    from neural.training.models import TuningJob  # lazy: after django.setup()
    from neural.training.tuning import tuning_job_create  # lazy: after django.setup()
    from tests.factories import copies, make_dataset, train_here  # lazy: after django.setup()

    if TuningJob.objects.count() >= N:
        return
    session = train_here(dataset=make_dataset(name="scale-search", rows=400), model_name="scale-search", epochs=1)
    job = tuning_job_create(
        user=None, version=session.model_version, method="random", trials=3, epochs=2, space="hyper", enqueue=False
    )
    copies(job, N - TuningJob.objects.count())


def main() -> None:
    os.environ.setdefault("DJANGO_SETTINGS_MODULE", "photondrift.settings")
    django.setup()
    from django.contrib.auth import get_user_model  # lazy: after django.setup()
    from django.core.management import call_command  # lazy: after django.setup()
    from django.test import Client  # lazy: after django.setup()

    from neural.training.models import CrossValidation, TrainingRun, TrainingSession  # lazy: after django.setup()
    from tests.factories import api_token  # lazy: after django.setup()

    call_command("migrate", verbosity=0)
    seed()
    users = get_user_model()
    admin = users.objects.filter(username="scale-admin").first() or users.objects.create_superuser(
        "scale-admin", "a@x.io", "pw-long-enough-123"
    )
    client = Client()
    client.force_login(admin)
    auth = {"HTTP_AUTHORIZATION": f"Token {api_token(admin)}"}
    ids = {
        "cv": CrossValidation.objects.order_by("-pk").first().pk,
        "run": TrainingRun.objects.order_by("-pk").first().pk,
    }
    runs, cvs, sessions = (m.objects.count() for m in (TrainingRun, CrossValidation, TrainingSession))
    print(f"{runs} runs, {cvs} cross-validations, {sessions} sessions")
    # How a cross-validation's report finds the sessions trained from it (the session_cross_validation index).
    plan = TrainingSession.objects.filter(config__cross_validation_id=7).explain()
    print("sessions of a cross-validation, query plan:", " / ".join(line.strip() for line in plan.splitlines()))
    baseline = None
    for template, api in URLS:
        url = template.format(**ids)
        times = []
        for _ in range(9):
            start = time.perf_counter()
            response = client.get(url, **(auth if api else {}))
            times.append(time.perf_counter() - start)
            assert response.status_code == 200, (url, response.status_code)
        median = statistics.median(times)
        baseline = baseline or median
        print(f"{url:45} median {median * 1000:7.1f} ms  max {max(times) * 1000:7.1f} ms  x{median / baseline:5.2f}")


if __name__ == "__main__":
    main()
