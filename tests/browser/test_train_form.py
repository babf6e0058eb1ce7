"""The overview's training form as a user drives it: a preset picked by name reaches the API and
the session trains the network that preset names; `best` starts its member sessions and shows them.

The embedded server in a subprocess and headless Chromium, as in the other browser tests.
"""

from __future__ import annotations

import re

import pytest

from neural.engine.presets import BEST_MEMBERS

from .server import api, login

pytestmark = [pytest.mark.browser, pytest.mark.slow]


def _submit(page, server, preset: str, model: str) -> None:
    page.goto(f"{server.base_url}/")
    page.select_option("#train-dataset", "demo-coordination:v1")
    page.select_option("#train-preset", preset)
    page.fill("input[name=model_name]", model)
    page.click("#train-form details summary")
    page.fill('[data-option="epochs"]', "2")
    page.click("#train-form button[type=submit]")


def test_a_preset_picked_on_the_form_trains_that_network(server, browser_context):
    page = browser_context.new_page()
    errors: list[str] = []
    page.on("pageerror", lambda exc: errors.append(str(exc)))
    login(page, server)

    _submit(page, server, "fast", "form-fast")
    page.wait_for_url(re.compile(r"/sessions/\d+/$"))
    session_id = int(page.url.rstrip("/").rsplit("/", 1)[1])
    status, session = api(browser_context, server, "GET", f"/api/v1/neural/train/{session_id}")
    assert status == 200, session
    assert session["config"]["architecture"] == "mlp" and session["config"]["epochs"] == 2

    _submit(page, server, "best", "form-best")
    page.wait_for_url(re.compile(r"/sessions/\?model=form-best-members$"))
    status, listing = api(browser_context, server, "GET", "/api/v1/neural/train?model_name=form-best-members")
    assert status == 200, listing
    members = listing["results"] if isinstance(listing, dict) else listing
    assert len(members) == BEST_MEMBERS
    assert {m["config"]["architecture"] for m in members} == {"tabm"}
    assert len({m["config"]["bagging_seed"] for m in members}) == BEST_MEMBERS
    assert errors == []
