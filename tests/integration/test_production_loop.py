"""Upload -> train in a real Celery worker -> live epochs over the Redis channel layer -> predict."""

from __future__ import annotations

import json

import pytest
from websockets.sync.client import connect

from neural.training.models import TrainingSession
from tests.factories import COORDINATION_INPUT, make_dataset

pytestmark = [pytest.mark.integration, pytest.mark.slow]


def test_healthz_reports_postgres_redis_and_the_redis_channel_layer(production_stack):
    status, body = production_stack.http("GET", "/healthz")
    assert status == 200
    assert body["checks"]["database"]["detail"] == "postgresql"
    assert body["checks"]["broker"]["detail"] == "redis"
    assert body["checks"]["channel_layer"]["detail"] == "RedisPubSubChannelLayer"


def test_a_real_worker_trains_and_streams_epochs_to_a_websocket_client(production_stack):
    make_dataset(name="itest", rows=3000)
    status, body = production_stack.http(
        "POST",
        "/api/v1/neural/train",
        {
            "pattern_type": "coordination",
            "training_data": "itest",
            "epochs": 25,
            "config": {"early_stopping": False, "batch_size": 64},
        },
    )
    assert status == 202, body
    session_id = body["session_id"]
    events: list[dict] = []
    with connect(
        production_stack.ws_url(f"/ws/sessions/{session_id}/"),
        additional_headers={"Authorization": f"Token {production_stack.token}"},
        open_timeout=10,
    ) as ws:
        while True:
            event = json.loads(ws.recv(timeout=60))
            events.append(event)
            if event["type"] == "training.status" and event["status"] in ("succeeded", "failed", "stopped"):
                break
    assert events[-1]["status"] == "succeeded", events[-1]
    epochs = [e for e in events if e["type"] == "training.epoch"]
    assert epochs, "no training.epoch event arrived through the Redis channel layer"
    assert [e["epoch"] for e in epochs] == sorted(e["epoch"] for e in epochs)
    assert epochs[-1]["epoch"] == 25 and 0 <= epochs[-1]["val_accuracy"] <= 1

    session = TrainingSession.objects.get(pk=session_id)
    assert session.ran_in.startswith("itest@")
    status, body = production_stack.http("GET", f"/api/v1/neural/train/{session_id}/metrics")
    assert len(body["epochs"]) == 25

    status, model = production_stack.http("GET", "/api/v1/neural/models/coordination")
    assert model["active_version"] == "v1"
    status, prediction = production_stack.http(
        "POST",
        "/api/v1/neural/predict",
        {
            "model": "coordination",
            "input": COORDINATION_INPUT,
        },
    )
    assert status == 200, prediction
    assert prediction["version"] == "v1" and set(prediction["probabilities"]) == {"False", "True"}


def test_stopping_a_running_session_reaches_the_worker(production_stack):
    make_dataset(name="stopme", rows=3000)
    _, body = production_stack.http(
        "POST",
        "/api/v1/neural/train",
        {
            "pattern_type": "coordination",
            "training_data": "stopme",
            "epochs": 500,
            "config": {"early_stopping": False, "batch_size": 16},
        },
    )
    session_id = body["session_id"]
    with connect(
        production_stack.ws_url(f"/ws/sessions/{session_id}/"),
        additional_headers={"Authorization": f"Token {production_stack.token}"},
        open_timeout=10,
    ) as ws:
        while json.loads(ws.recv(timeout=60))["type"] != "training.epoch":
            pass
        status, _ = production_stack.http("DELETE", f"/api/v1/neural/train/{session_id}")
        assert status == 202
        while True:
            event = json.loads(ws.recv(timeout=30))
            if event["type"] == "training.status" and event["status"] != "running":
                break
    assert event["status"] == "stopped"
    session = TrainingSession.objects.get(pk=session_id)
    assert session.epoch < 500 and session.model_version is None
