"""schemathesis against the OpenAPI schema: every operation, as an operator and as an admin, with
data that fits the schema and data that does not, on generated and on real path parameters.

Two checks on every answer: no 5xx (``not_a_server_error``) and the answer matches what the
schema documents for its status (``response_schema_conformance``). Each case runs in a savepoint
that is rolled back, so every case sees the same data (files that a change would remove are only
removed on commit). Bounded and derandomized: MAX_EXAMPLES cases per operation, mode and set of
path parameters. The figures are printed (``-s``) for docs/api.md.
"""

from __future__ import annotations

import math
import os
import time
from collections import Counter
from pathlib import Path

import pytest
import schemathesis
from django.core import signals
from django.core.handlers.wsgi import WSGIHandler
from django.db import close_old_connections, transaction
from drf_spectacular.generators import SchemaGenerator
from hypothesis import HealthCheck, Phase, given, settings
from hypothesis.errors import Unsatisfiable
from schemathesis import GenerationMode
from schemathesis.checks import not_a_server_error
from schemathesis.specs.openapi.checks import response_schema_conformance

from neural.monitoring.models import Alert, AlertRule
from neural.registry.models import ModelVersion
from neural.registry.robustness import version_robustness_run
from neural.training.crossval import cross_validation_run_here, cross_validation_start
from neural.training.models import TrainingRun, TrainingSession
from neural.training.tuning import tuning_job_create
from tests.factories import api_token

MAX_EXAMPLES = 4
# schemathesis' coverage phase makes 2 to 261 cases per operation (1,513 in all); a spread of
# this many each (FUZZ_COVERAGE_CASES=0: all of them).
COVERAGE_CASES = int(os.environ.get("FUZZ_COVERAGE_CASES", "12")) or 10**6
# (mode, on the real objects?): invalid data is generated with generated path parameters only
# (with fixed ones and no other input, there is nothing left to make invalid).
RUNS = [(GenerationMode.POSITIVE, False), (GenerationMode.POSITIVE, True), (GenerationMode.NEGATIVE, False)]
SECONDS: Counter = Counter()
CHECKS = [not_a_server_error, response_schema_conformance]


@pytest.fixture(autouse=True)
def connections_kept_open():
    """Django's WSGI handler closes the database connection when a request ends (the test
    transaction with it); its test client turns that off the same way."""
    signals.request_started.disconnect(close_old_connections)
    signals.request_finished.disconnect(close_old_connections)
    yield
    signals.request_started.connect(close_old_connections)
    signals.request_finished.connect(close_old_connections)


def api_schema() -> schemathesis.BaseSchema:
    """The schema drf-spectacular generates (no HTTP request, so it does not matter who may read
    /api/v1/schema/), answered in-process by Django's WSGI handler."""
    raw = SchemaGenerator().get_schema(request=None, public=True)
    schema = schemathesis.openapi.from_dict(raw)
    schema.app = WSGIHandler()
    return schema


def operations(schema) -> list:
    return [result.ok() for result in schema.get_all_operations()]


def can_be_invalid(operation) -> bool:
    """Whether invalid data exists for ``operation``: a body, a query parameter or a typed path
    parameter (any text is a valid name; hypothesis would search for nothing)."""
    typed = [p for p in operation.path_parameters if p.definition.get("schema", {}).get("type") != "string"]
    return bool(len(operation.body) or len(operation.query) or typed)


class _Rollback(Exception):
    pass


def call_in_savepoint(case, headers: dict) -> object:
    """One request whose writes (and on_commit callbacks) are undone afterwards."""
    answer = {}
    try:
        with transaction.atomic():
            answer["response"] = case.call(headers=headers)
            raise _Rollback
    except _Rollback:
        pass
    return answer["response"]


@pytest.fixture
def real_objects(trained, user) -> dict:
    """Path parameters that name objects which exist: each operation also runs on these."""
    version = ModelVersion.objects.get(pk=trained.model_version_id)
    rule = AlertRule.objects.create(model=version.model, kind="accuracy_below", threshold=0.9)
    alert = Alert.objects.create(rule=rule, model=version.model, message="accuracy 0.5 below 0.9", value=0.5)
    job = tuning_job_create(user=user, version=version, method="random", trials=2, epochs=1, enqueue=False)
    version_robustness_run(version=version)  # a measured report, so its read answers 200
    run = TrainingRun.objects.create(source=".neural-training.yml")  # a `--config` run of the session
    TrainingSession.objects.filter(pk=trained.pk).update(run=run)
    cv = cross_validation_start(
        user=user, dataset=trained.dataset, pattern=version.model.pattern, folds=2, options={"epochs": 1}, enqueue=False
    )
    cross_validation_run_here(cv_id=cv.pk)  # finished, so its predictions answer 200
    return {
        "model_id": version.model.name,
        "session_id": trained.pk,
        "id": trained.dataset_id,
        "alert_id": alert.pk,
        "job_id": job.pk,
        "run_id": run.pk,
        "cv_id": cv.pk,
        "names": {"model": version.model.name, "training_data": trained.dataset.name},
    }


def token_header(user) -> dict:
    return {"Authorization": f"Token {api_token(user)}"}


def with_real_names(case, names: dict | None) -> None:
    """Text that names an object (``model``, ``training_data``) in the query or a JSON body set to
    one that exists, so a case gets past the lookup to the work behind it (other types are left:
    they are the invalid cases)."""
    for part in (case.query, case.body):
        if isinstance(part, dict):
            for key, value in names.items() if names else ():
                if isinstance(part.get(key), str):
                    part[key] = value


def check(case, *, headers: dict, tally: Counter, found: list, names: dict | None = None) -> None:
    """Call one case and run the CHECKS on its answer; count it and keep a failure (not only the first)."""
    with_real_names(case, names)
    response = call_in_savepoint(case, headers)
    tally["cases"] += 1
    tally[f"{response.status_code // 100}xx answers"] += 1
    try:
        case.validate_response(response, checks=CHECKS, headers=headers)
    except Exception as exc:  # a check failed: record it, go on with the next case
        kind = "5xx" if response.status_code >= 500 else "mismatch"
        tally[kind] += 1
        found.append(f"{kind} {case.method} {case.formatted_path} -> {response.status_code}: {exc}"[:3000])


def coverage(schema, operation, *, headers: dict, tally: Counter, found: list, names: dict) -> None:
    """schemathesis' coverage cases (boundary values: the largest integers, empty and over-long
    strings, missing and wrong-typed fields), at most COVERAGE_CASES per operation, spread evenly."""
    cases = list(
        schema.iter_coverage_cases(
            operation,
            generation_modes=[GenerationMode.POSITIVE, GenerationMode.NEGATIVE],
            generation_config=schema.config.generation_for(operation=operation),
        )
    )
    started = time.monotonic()
    for case in cases[:: max(1, math.ceil(len(cases) / COVERAGE_CASES))]:
        check(case, headers=headers, tally=tally, found=found, names=names)
    SECONDS[f"{operation.method.upper()} {operation.path}"] += time.monotonic() - started


def fuzz(operation, *, headers: dict, path_parameters: dict | None, mode: GenerationMode, tally: Counter, found: list):
    """MAX_EXAMPLES generated cases of one operation, in ``mode``, on generated or given path parameters."""
    known = {k: v for k, v in (path_parameters or {}).items() if "{" + k + "}" in operation.path} or None
    if mode == GenerationMode.NEGATIVE and not can_be_invalid(operation):
        return

    @settings(
        max_examples=MAX_EXAMPLES,
        derandomize=True,
        database=None,
        deadline=None,
        phases=[Phase.explicit, Phase.generate],
        suppress_health_check=list(HealthCheck),
    )
    @given(case=operation.as_strategy(generation_mode=mode, path_parameters=known))
    def run(case):
        check(case, headers=headers, tally=tally, found=found, names=path_parameters and path_parameters["names"])

    started = time.monotonic()
    try:
        run()
    except Unsatisfiable:
        tally["unsatisfiable"] += 1  # negative mode with nothing left to make invalid (fixed path parameters)
    except Exception as exc:  # hypothesis could not generate (an unsatisfiable schema): that is a finding too
        tally["errors"] += 1
        found.append(f"error {operation.method.upper()} {operation.path}: {type(exc).__name__}: {exc}"[:2000])
    SECONDS[f"{operation.method.upper()} {operation.path}"] += time.monotonic() - started


@pytest.mark.slow
@pytest.mark.parametrize("role", ["operator", "admin"])
def test_no_operation_answers_5xx_or_off_its_schema(role, user, admin_user, real_objects):
    headers = token_header(user if role == "operator" else admin_user)
    tally, found = Counter(), []
    schema = api_schema()
    for operation in operations(schema):
        coverage(schema, operation, headers=headers, tally=tally, found=found, names=real_objects["names"])
        # (generated path parameters mostly name nothing; the real ones reach the views' work)
        for mode, on_real_objects in RUNS:
            fuzz(
                operation,
                headers=headers,
                path_parameters=real_objects if on_real_objects else None,
                mode=mode,
                tally=tally,
                found=found,
            )
    print(f"\nfuzz as {role}: {dict(sorted(tally.items()))}")
    if os.environ.get("FUZZ_REPORT"):
        slowest = "\n".join(f"{s:6.1f}s {op}" for op, s in SECONDS.most_common(12))
        Path(os.environ["FUZZ_REPORT"]).write_text(slowest + "\n\n" + "\n\n".join(found))
    assert tally["cases"] > 200
    assert not found, "\n\n".join(found)


def test_documented_answers_match_real_ones(api, real_objects):
    """The reads of real objects (not only generated ones) match their documented schema."""
    schema = api_schema()
    headers = dict(api._credentials and {"Authorization": api._credentials["HTTP_AUTHORIZATION"]})
    reads = [op for op in operations(schema) if op.method == "get"]
    checked = 0
    for operation in reads:
        query = {"model": real_objects["model_id"]} if any(p.name == "model" for p in operation.query) else {}
        if any(p.name == "models" for p in operation.query):
            query["models"] = f"{real_objects['model_id']},{real_objects['model_id']}"
        params = {k: v for k, v in real_objects.items() if "{" + k + "}" in operation.path}
        case = operation.Case(path_parameters=params, query=query)
        response = case.call(headers=headers)
        assert response.status_code == 200, (operation.path, response.text[:300])
        case.validate_response(response, checks=CHECKS, headers=headers)
        checked += 1
    assert checked == len(reads) and len(reads) >= 15
