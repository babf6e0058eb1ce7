"""The session page streams a real training: embedded server in a subprocess, headless Chromium.

No pytest-django database here: the server process owns its own SQLite file under tmp_path.
"""

from __future__ import annotations

import time

import pytest

from .server import login, start_demo_training

pytestmark = [pytest.mark.browser, pytest.mark.slow]

EPOCHS = 30  # a few seconds of training on an idle 2-core machine, under a minute when it is busy
TRAINING_DEADLINE_S = 70
FINISHED = ("succeeded", "failed", "stopped")

READ_PAGE = """() => {
  const chart = document.getElementById('loss-chart');
  const trace = chart && chart.data && chart.data[0];
  return {points: trace ? trace.x.length : null, status: document.getElementById('status').textContent.trim(),
          same_page: window.pdSamePage === true};
}"""


def read_page(page) -> dict | None:
    from playwright.sync_api import Error

    try:
        return page.evaluate(READ_PAGE)
    except Error:
        return None  # the page reloads itself when training ends; read again after


def test_it_streams_the_loss_curve_while_training(server, browser_context):
    page = browser_context.new_page()
    js_errors: list[str] = []
    page.on("pageerror", lambda exc: js_errors.append(str(exc)))
    # The Content-Security-Policy refuses nothing the page needs (Plotly, the live script).
    blocked: list[str] = []
    page.on("console", lambda msg: blocked.append(msg.text) if "Content Security Policy" in msg.text else None)
    login(page, server)
    session = start_demo_training(browser_context, server, epochs=EPOCHS)
    session_id = session["session_id"]

    page.goto(f"{server.base_url}/sessions/{session_id}/")
    page.evaluate("() => { window.pdSamePage = true; }")  # gone if the page reloaded
    counts_while_running: list[int] = []
    reloaded_while_running = False
    status = ""
    deadline = time.monotonic() + TRAINING_DEADLINE_S
    while time.monotonic() < deadline:
        seen = read_page(page)
        if seen is not None:
            status = seen["status"]
            if status in FINISHED:
                break
            points = seen["points"]
            reloaded_while_running |= not seen["same_page"]
            if points is not None and (not counts_while_running or points != counts_while_running[-1]):
                counts_while_running.append(points)
        page.wait_for_timeout(100)

    detail = browser_context.request.get(f"{server.base_url}/api/v1/neural/train/{session_id}").json()
    assert status == "succeeded", (
        f"page status {status!r} after {TRAINING_DEADLINE_S}s; API says {detail['status']!r}, "
        f"error {detail['error']!r}\n--- server log ---\n{server.log_tail()}"
    )
    assert counts_while_running == sorted(counts_while_running), f"points went down: {counts_while_running}"
    assert not reloaded_while_running, "the page reloaded to show new epochs instead of appending them"
    assert len(set(counts_while_running)) >= 2, (
        f"loss chart did not grow while running; point counts seen: {counts_while_running}"
    )

    # On finish the page reloads once to show the registered version; then it holds every epoch.
    page.wait_for_selector("#version")
    assert page.text_content("#status").strip() == "succeeded"
    assert page.evaluate(READ_PAGE)["points"] == EPOCHS
    assert js_errors == [] and blocked == []
