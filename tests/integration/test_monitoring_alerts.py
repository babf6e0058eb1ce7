"""Bad feedback -> a real Celery worker evaluates the rule -> monitoring.alert over Redis -> websocket."""

from __future__ import annotations

import json
import time

import pytest
from websockets.sync.client import connect

from tests.factories import COORDINATION_INPUT, make_dataset

pytestmark = [pytest.mark.integration, pytest.mark.slow]


def test_an_accuracy_alert_reaches_a_websocket_client_from_a_real_worker(production_stack):
    stack = production_stack
    make_dataset(name="itest-alerts", rows=400)
    status, body = stack.http(
        "POST", "/api/v1/neural/train", {"pattern_type": "coordination", "training_data": "itest-alerts", "epochs": 3}
    )
    assert status == 202, body
    deadline = time.monotonic() + 120
    while stack.http("GET", f"/api/v1/neural/train/{body['session_id']}/status")[1]["status"] != "succeeded":
        assert time.monotonic() < deadline, "training did not finish"
        time.sleep(0.5)
    status, rule = stack.http(
        "POST",
        "/api/v1/neural/alert-rules",
        {"model": "coordination", "kind": "accuracy_below", "threshold": 0.7, "min_count": 20},
    )
    assert status == 201, rule
    status, batch = stack.http(
        "POST", "/api/v1/neural/predict/batch", {"model": "coordination", "inputs": [COORDINATION_INPUT] * 25}
    )
    assert status == 200, batch
    items = [{"prediction_id": p["prediction_id"], "actual": not p["prediction"]} for p in batch["predictions"]]
    with connect(
        stack.ws_url("/ws/dashboard/"), additional_headers={"Authorization": f"Token {stack.token}"}, open_timeout=10
    ) as ws:
        for _ in range(40):  # the prediction log is written off the request path: wait for the rows
            status, body = stack.http("POST", "/api/v1/neural/feedback/bulk", {"items": items})
            if status == 201:
                break
            time.sleep(0.25)
        assert status == 201, body
        seen: list[dict] = []
        while True:
            try:
                event = json.loads(ws.recv(timeout=60))
            except TimeoutError:
                _, alerts = stack.http("GET", "/api/v1/neural/alerts")
                _, accuracy = stack.http("GET", "/api/v1/neural/accuracy?model=coordination")
                pytest.fail(
                    f"no monitoring.alert within 60 s; events {seen}; alerts {alerts}; accuracy {accuracy}\n"
                    + stack.log_tails()
                )
            seen.append(event)
            if event["type"] == "monitoring.alert":
                break
    assert event["status"] == "firing" and event["rule"] == "accuracy_below" and event["value"] == 0.0
    status, alerts = stack.http("GET", "/api/v1/neural/alerts?status=firing")
    listed = alerts["results"] if isinstance(alerts, dict) else alerts
    assert [a["id"] for a in listed] == [event["id"]]
    assert listed[0]["deliveries"][0]["worker"].startswith("itest@")
