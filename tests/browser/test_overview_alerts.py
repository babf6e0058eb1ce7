"""An alert appears on the open overview page without a reload, and its button acknowledges it.

The real flow, end to end: embedded server in a subprocess (its own SQLite file and worker
thread), a small training through the API, an accuracy rule through the API, predictions and
wrong labels through the API; the embedded worker's evaluation fires the alert and broadcasts
``monitoring.alert`` on /ws/dashboard/, and headless Chromium watches the page take it in.
"""

from __future__ import annotations

import json
import time

import pytest

from tests.factories import COORDINATION_INPUT

from .server import EmbeddedServer, api, login, start_demo_training, wait_for_training

pytestmark = [pytest.mark.browser, pytest.mark.slow]

MODEL = "browser-alerts"
EPOCHS = 5
LABELS = 8  # the rule's min_count: that many wrong labels make realised accuracy 0 < 0.99
TRAINING_DEADLINE_S = 90
ALERT_DEADLINE_MS = 60_000
# One coordination task as the demo data set's generator writes it.
ALERT_ROWS = "#alerts tbody tr[data-alert]"


def wrong_label(prediction: dict) -> str:
    """A class the model did not predict (the probabilities name every class)."""
    others = [label for label in prediction["probabilities"] if label != str(prediction["prediction"])]
    assert others, f"no other class to label with: {prediction}"
    return others[0]


def send_feedback(context, server: EmbeddedServer, prediction_id: str, actual: str) -> None:
    # The prediction log is written off the request path: an id may be unknown for a moment.
    deadline = time.monotonic() + 15
    while True:
        status, body = api(
            context, server, "POST", "/api/v1/neural/feedback", {"prediction_id": prediction_id, "actual": actual}
        )
        if status == 201 or time.monotonic() > deadline:
            break
        time.sleep(0.25)
    assert status == 201, f"POST /api/v1/neural/feedback -> {status}: {body}"


def test_it_shows_a_new_alert_live_and_acknowledges_it_without_a_reload(server, browser_context):
    context = browser_context
    page = context.new_page()
    js_errors: list[str] = []
    page.on("pageerror", lambda exc: js_errors.append(str(exc)))
    login(page, server)

    session = start_demo_training(context, server, epochs=EPOCHS, model_name=MODEL)
    status = wait_for_training(context, server, session["session_id"], timeout=TRAINING_DEADLINE_S)
    assert status == "succeeded", f"training is {status!r}\n--- server log ---\n{server.log_tail()}"

    navigations: list[str] = []
    page.on("framenavigated", lambda frame: navigations.append(frame.url) if frame == page.main_frame else None)
    socket_events: list[dict] = []

    def on_websocket(ws):
        if ws.url.endswith("/ws/dashboard/"):
            ws.on("framereceived", lambda payload: socket_events.append(json.loads(payload)))

    page.on("websocket", on_websocket)
    # Network timing, not content: once `hold` is on, the first summary request is answered by the
    # real server at once but handed to the page only later, after newer answers (a slow response).
    hold = {"on": False}
    held: list = []

    def on_summary(route):
        if hold["on"] and not held:
            held.append((route, route.fetch()))
        else:
            route.continue_()

    page.route("**/monitoring/summary.json", on_summary)
    # The page re-reads the summary when its socket opens: after that response, events reach it.
    with page.expect_response(lambda res: res.url.endswith("/monitoring/summary.json")):
        page.goto(f"{server.base_url}/")
    page.evaluate("() => { window.__marker = 1; }")
    loads = len(navigations)
    assert page.locator(ALERT_ROWS).count() == 0
    assert page.text_content("#alerts tbody").strip() == "No open alerts."

    # What a user does: a rule, some predictions, ground truth that says every one was wrong.
    status, rule = api(
        context,
        server,
        "POST",
        "/api/v1/neural/alert-rules",
        {"model": MODEL, "kind": "accuracy_below", "threshold": 0.99, "min_count": LABELS},
    )
    assert status == 201, rule
    hold["on"] = True
    for _ in range(LABELS):
        status, prediction = api(
            context, server, "POST", "/api/v1/neural/predict", {"model": MODEL, "input": COORDINATION_INPUT}
        )
        assert status == 200, prediction
        send_feedback(context, server, prediction["prediction_id"], wrong_label(prediction))

    try:
        page.wait_for_selector(ALERT_ROWS, timeout=ALERT_DEADLINE_MS)
    except Exception:
        _, alerts = api(context, server, "GET", "/api/v1/neural/alerts")
        pytest.fail(f"no alert row on the page; API alerts {alerts}\n--- server log ---\n{server.log_tail()}")
    row = page.locator(ALERT_ROWS)
    assert row.count() == 1
    cells = row.locator("td").all_text_contents()
    assert cells[1:4] == [MODEL, "accuracy_below", "firing"], cells
    assert "realised accuracy 0.000 < 0.990" in cells[4], cells

    # The row may come from a summary the page re-read after an accuracy event, before the alert's
    # own frame is handed to this test: give the frame a moment (events are dispatched while waiting).
    deadline = time.monotonic() + 10
    while not any(e.get("type") == "monitoring.alert" for e in socket_events) and time.monotonic() < deadline:
        page.wait_for_timeout(100)
    alert_events = [e for e in socket_events if e.get("type") == "monitoring.alert"]
    assert [e["status"] for e in alert_events] == ["firing"], socket_events
    assert row.get_attribute("data-alert") == str(alert_events[0]["id"])
    assert page.evaluate("() => window.__marker") == 1, "the page was reloaded"
    assert navigations[loads:] == []

    # The summary asked for when the first label arrived (no alert yet) comes in last: the page keeps
    # the newer answer instead of wiping the alert row.
    assert len(held) == 1, "no summary request was held"
    route, stale = held[0]
    assert json.loads(stale.text())["alerts"] == []
    with page.expect_event("requestfinished", lambda req: req == route.request):
        route.fulfill(response=stale)
    page.evaluate("() => new Promise((resolve) => setTimeout(resolve, 200))")  # let the page handle it
    assert row.count() == 1, page.text_content("#alerts tbody")

    # The button acknowledges it, and the row changes in place.
    row.locator("button.ack").click()
    page.wait_for_selector(f'{ALERT_ROWS} [data-field="status"]:text-is("acknowledged")')
    assert row.locator("button.ack").count() == 0
    status, alerts = api(context, server, "GET", "/api/v1/neural/alerts")
    listed = alerts["results"] if isinstance(alerts, dict) else alerts
    assert [(a["id"], a["status"]) for a in listed] == [(alert_events[0]["id"], "acknowledged")]
    assert page.evaluate("() => window.__marker") == 1, "the page was reloaded"
    assert navigations[loads:] == []
    assert js_errors == []
