"""At 390 px wide (a phone) no page scrolls sideways: wide tables scroll inside their card."""

from __future__ import annotations

import pytest

from .seed import seed_runs
from .server import login

pytestmark = [pytest.mark.browser, pytest.mark.slow]

PAGES = ["/", "/sessions/", "/monitoring/", "/models/", "/alerts/", "/datasets/", "/searches/", "/datasets/1/"]
OVERFLOW = "() => document.documentElement.scrollWidth - document.documentElement.clientWidth"


def test_no_page_scrolls_sideways_at_390_px(server, browser_context):
    seed_runs(server, 30)
    page = browser_context.new_page()
    page.set_viewport_size({"width": 390, "height": 844})
    login(page, server)
    wide = {}
    for path in PAGES:
        res = page.goto(f"{server.base_url}{path}")
        assert res.status == 200, path
        page.wait_for_load_state("load")
        if (extra := page.evaluate(OVERFLOW)) > 0:
            wide[path] = extra
    assert wide == {}, f"pages wider than the screen (px too wide): {wide}"
