"""Fixtures of the browser tests: the embedded server in a subprocess and a Chromium context."""

from __future__ import annotations

import os

import pytest

from .server import CHROMIUM, VIEWPORT, EmbeddedServer, launch_chromium


def require_chromium() -> None:
    if CHROMIUM.exists():
        return
    reason = f"{CHROMIUM} is missing (install Debian's chromium, e.g. `make chromium` as root)"
    if os.environ.get("CI") == "true":
        pytest.fail(f"CI=true and {reason}")
    pytest.skip(reason)


@pytest.fixture
def server(tmp_path):
    require_chromium()
    srv = EmbeddedServer(home=tmp_path / "home").start()
    yield srv
    srv.stop()


@pytest.fixture
def browser_context(server):
    from playwright.sync_api import sync_playwright

    with sync_playwright() as playwright:
        browser = launch_chromium(playwright)
        context = browser.new_context(viewport=VIEWPORT)
        context.set_default_timeout(20_000)
        yield context
        context.close()
        browser.close()
