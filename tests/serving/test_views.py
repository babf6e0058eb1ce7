"""The predict endpoints' hot path: cached token checks, no database reads once warm, the same
400s as the serializers gave."""

from __future__ import annotations

import json

import pytest
from django.core.cache import caches
from django.db import connection
from django.test.utils import CaptureQueriesContext
from knox.models import AuthToken

from neural.api.auth import TokenFailureThrottle
from neural.api.errors import _flatten
from neural.serving import views
from neural.serving.serializers import PredictSerializer
from tests.factories import api_token
from tests.serving.test_services import rows


def test_a_warm_predict_reads_neither_the_token_nor_the_versions(api, trained):
    body = {"model": "coord-model", "input": rows(trained.dataset, 1)[0]}
    # Twice: the first loads the model, which on a loaded machine outlasts the route's ROUTE_TTL_S.
    for _ in range(2):
        assert api.post("/api/v1/neural/predict", body, format="json").status_code == 200
    with CaptureQueriesContext(connection) as queries:
        res = api.post("/api/v1/neural/predict", body, format="json")
    assert res.status_code == 200, res.json()
    sql = [q["sql"] for q in queries.captured_queries if "SAVEPOINT" not in q["sql"]]
    # The log write (inline in tests, on the writer thread in production) locks the versions it
    # names FOR KEY SHARE instead of a per-row foreign-key check; the request itself reads nothing.
    log_write = [q for q in sql if "monitoring_predictionlog" in q or q.endswith("FOR KEY SHARE")]
    assert log_write == sql
    reads = [q for q in sql if q.lstrip().upper().startswith("SELECT") and not q.endswith("FOR KEY SHARE")]
    assert reads == []


def test_a_warm_predict_makes_no_cache_round_trip(api, trained, monkeypatch):
    """The throttles' counts live in the cache (Redis in production): a cached token skips the
    failed-check count, and the predict throttle spends a lease of slots taken on the first call."""
    body = {"model": "coord-model", "input": rows(trained.dataset, 1)[0]}
    for _ in range(2):  # as above: the route read again after a slow first call is not what this checks
        assert api.post("/api/v1/neural/predict", body, format="json").status_code == 200
    cache, calls = caches["default"], []
    for name in ("get", "set", "add", "get_many", "set_many", "incr"):
        original = getattr(cache, name)
        monkeypatch.setattr(cache, name, lambda *a, _f=original, _n=name, **k: calls.append(_n) or _f(*a, **k))
    assert [api.post("/api/v1/neural/predict", body, format="json").status_code for _ in range(5)] == [200] * 5
    assert calls == []


def test_a_token_the_cache_does_not_hold_meets_the_failed_check_throttle(client, trained, user, monkeypatch):
    monkeypatch.setitem(TokenFailureThrottle.THROTTLE_RATES, "token_failure", "2/min")
    body = json.dumps({"model": "coord-model", "input": rows(trained.dataset, 1)[0]})
    for guess in ("guess1", "guess2"):
        res = client.post(
            "/api/v1/neural/predict", body, content_type="application/json", HTTP_AUTHORIZATION=f"Token {guess}"
        )
        assert res.status_code == 401
    valid = api_token(user)  # never checked by this process yet
    res = client.post(
        "/api/v1/neural/predict", body, content_type="application/json", HTTP_AUTHORIZATION=f"Token {valid}"
    )
    assert res.status_code == 429


def test_a_deleted_token_stops_working_at_once(api, trained, user):
    body = {"model": "coord-model", "input": rows(trained.dataset, 1)[0]}
    assert api.post("/api/v1/neural/predict", body, format="json").status_code == 200
    AuthToken.objects.get(user=user).delete()
    assert api.post("/api/v1/neural/predict", body, format="json").status_code == 401


def test_a_deactivated_user_is_refused_at_once(api, trained, user):
    body = {"model": "coord-model", "input": rows(trained.dataset, 1)[0]}
    assert api.post("/api/v1/neural/predict", body, format="json").status_code == 200
    user.is_active = False
    user.save()
    assert api.post("/api/v1/neural/predict", body, format="json").status_code == 401


def test_a_token_changed_elsewhere_is_asked_again_after_the_ttl(api, trained, user, monkeypatch):
    """Another process's change (a queryset delete sends no signal here) applies within TOKEN_TTL_S."""
    body = {"model": "coord-model", "input": rows(trained.dataset, 1)[0]}
    assert api.post("/api/v1/neural/predict", body, format="json").status_code == 200
    AuthToken.objects.filter(user=user)._raw_delete(using="default")
    assert api.post("/api/v1/neural/predict", body, format="json").status_code == 200  # cached
    now = views.time.monotonic()
    monkeypatch.setattr(views.time, "monotonic", lambda: now + views.TOKEN_TTL_S + 0.01)
    assert api.post("/api/v1/neural/predict", body, format="json").status_code == 401


def test_an_unknown_token_is_refused_and_not_remembered(client, trained):
    res = client.post("/api/v1/neural/predict", {}, content_type="application/json", HTTP_AUTHORIZATION="Token nope")
    assert res.status_code == 401
    assert "nope" not in views._tokens


@pytest.mark.parametrize(
    "body",
    [
        {},
        {"input": {}},
        {"model": "coord-model"},
        {"model": None, "input": None},
        {"model": "", "input": {}},
        {"model": "   ", "input": {}},
        {"model": ["coord-model"], "input": {}},
        {"model": "x" * 121, "input": {}},
        {"model": "coord-model", "input": [1, 2]},
        {"model": "coord-model", "input": "a=1"},
        [{"model": "coord-model", "input": {}}],
        "just a string",
    ],
)
def test_predict_bodies_get_the_serializer_s_400s(api, db, body):
    res = api.post("/api/v1/neural/predict", data=json.dumps(body), content_type="application/json")
    serializer = PredictSerializer(data=body)
    assert not serializer.is_valid()
    expected = _flatten(serializer.errors)
    assert res.status_code == 400
    assert res.json()["fields"] == expected


def test_the_response_is_json_with_the_same_keys(api, trained):
    res = api.post(
        "/api/v1/neural/predict", {"model": "coord-model", "input": rows(trained.dataset, 1)[0]}, format="json"
    )
    assert res["Content-Type"] == "application/json"
    body = json.loads(res.content)
    assert set(body) == {"model", "version", "prediction", "probabilities", "score", "prediction_id"}
