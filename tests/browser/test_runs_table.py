"""The runs table in Chromium: sort by a header, filter and search, page, choose columns, and a
run's status changing live."""

from __future__ import annotations

import pytest

from .seed import seed_runs
from .server import login, start_demo_training

pytestmark = [pytest.mark.browser, pytest.mark.slow]

RUNS = 60
EPOCHS = 10
TRAINING_DEADLINE_MS = 90_000
NAMES = "() => [...document.querySelectorAll('#runs tbody tr td[data-col=name]')].map((td) => td.textContent)"


def test_it_sorts_filters_pages_and_remembers_the_columns(server, browser_context):
    seed_runs(server, RUNS)
    page = browser_context.new_page()
    js_errors: list[str] = []
    page.on("pageerror", lambda exc: js_errors.append(str(exc)))
    login(page, server)

    page.goto(f"{server.base_url}/sessions/?per_page=25")
    assert len(page.evaluate(NAMES)) == 25
    assert f"rows 1–25 of {RUNS}" in page.inner_text(".pager")

    page.click("#runs thead th[data-col=val_accuracy] a")  # first click: best first
    page.wait_for_url("**sort=-val_accuracy**")
    assert page.evaluate(NAMES)[0] == f"run-{RUNS - 1:03d}"
    page.click("#runs thead th[data-col=val_accuracy] a")  # again: worst first
    page.wait_for_url("**sort=val_accuracy**")
    assert page.evaluate(NAMES)[0] == "run-000"
    assert page.get_attribute("#runs thead th[data-col=val_accuracy]", "aria-sort") == "ascending"

    page.select_option("#run-filters select[name=status]", "failed")
    page.fill("#run-filters input[name=q]", "run-01")
    with page.expect_navigation():
        page.click("#run-filters button[type=submit]")
    assert page.evaluate(NAMES) == [f"run-01{d}" for d in (1, 3, 5, 7, 9)]  # the sort is kept

    page.goto(f"{server.base_url}/sessions/?per_page=25&sort=name")
    with page.expect_navigation():
        page.click(".pager a[rel=next]")
    assert page.evaluate(NAMES)[0] == "run-025"
    assert "rows 26–50" in page.inner_text(".pager")

    page.click("details.columns summary")
    page.uncheck("details.columns input[data-col=model]")
    assert page.is_hidden("#runs tbody td[data-col=model] >> nth=0")
    page.reload()
    assert page.is_hidden("#runs thead th[data-col=model]")  # kept in localStorage

    # A run's status changes in place over /ws/dashboard/, without a reload.
    session = start_demo_training(browser_context, server, epochs=EPOCHS)
    page.goto(f"{server.base_url}/sessions/?sort=-created_at")
    page.wait_for_selector("#live.on")
    page.evaluate("() => { window.notReloaded = true; }")
    status = f'#runs tr[data-session="{session["session_id"]}"] [data-field=status]'
    page.wait_for_function(
        f"() => document.querySelector('{status}').textContent === 'succeeded'", timeout=TRAINING_DEADLINE_MS
    )
    assert page.evaluate("() => window.notReloaded === true")
    assert page.get_attribute(status, "class") == "status status-succeeded"
    assert js_errors == []
