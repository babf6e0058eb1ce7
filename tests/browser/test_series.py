"""Long series in the browser: the session page's zoom re-reads its range whole, and the
compare page overlays runs. Embedded server in a subprocess, headless Chromium."""

from __future__ import annotations

import pytest

from .seed import seed_sessions
from .server import login

pytestmark = [pytest.mark.browser, pytest.mark.slow]

TRACE = """(id) => { const t = document.getElementById(id).data; return t.map((d) => ({x: d.x, name: d.name})); }"""


def test_it_zooms_into_a_long_run_and_reads_that_range_whole(server, browser_context):
    (session_id,) = seed_sessions(server, [{"name": "long", "epochs": 12_000, "spike_at": 7_777}])
    page = browser_context.new_page()
    errors: list[str] = []
    page.on("pageerror", lambda exc: errors.append(str(exc)))
    login(page, server)
    page.goto(f"{server.base_url}/sessions/{session_id}/")
    page.wait_for_selector("body[data-loaded='1-12000@24']")
    whole = page.evaluate(TRACE, "loss-chart")[0]["x"]
    assert len(whole) <= 2000 and 7_777 in whole and whole[-1] == 12_000
    assert "summarises up to 24 epochs" in page.text_content("#resolution")

    page.evaluate("() => Plotly.relayout('loss-chart', {'xaxis.range[0]': 7700, 'xaxis.range[1]': 7900})")
    page.wait_for_selector("body[data-loaded='7700-7900@1']")
    for chart in ("loss-chart", "quality-chart"):
        assert page.evaluate(TRACE, chart)[0]["x"] == list(range(7700, 7901))
    assert page.text_content("#resolution") == "every epoch"

    page.click("#reset-zoom")
    page.wait_for_selector("body[data-loaded='1-12000@24']")
    assert errors == []


def test_it_overlays_the_runs_it_compares_with_smoothing(server, browser_context):
    ids = seed_sessions(
        server,
        [{"name": "fast", "epochs": 300, "scale": 1.0}, {"name": "slow", "epochs": 200, "scale": 2.0, "lr": 0.01}],
    )
    page = browser_context.new_page()
    errors: list[str] = []
    page.on("pageerror", lambda exc: errors.append(str(exc)))
    login(page, server)
    page.goto(f"{server.base_url}/compare/?sessions={ids[0]},{ids[1]}")
    page.wait_for_selector("body[data-drawn='val_loss:epoch:0:2']")
    traces = page.evaluate(TRACE, "compare-chart")
    assert [t["name"] for t in traces] == [f"#{ids[0]} fast", f"#{ids[1]} slow"]
    assert [len(t["x"]) for t in traces] == [300, 200]
    assert page.text_content("#options tr.differs th") == "epochs"

    page.fill("#smoothing", "0.9")
    page.dispatch_event("#smoothing", "input")
    page.wait_for_selector("body[data-drawn='val_loss:epoch:0.9:4']")  # smoothed lines over faint raw ones
    page.select_option("#x-axis", "wall")
    page.wait_for_function("() => document.body.dataset.drawn.startsWith('val_loss:wall')")
    assert "no wall data" in page.text_content("#compare-note")  # seeded runs have no start time
    assert errors == []
