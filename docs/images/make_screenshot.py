"""Make docs/images/session-page.png and docs/images/overview.png from a real run.

Starts the embedded server on a free port with a throwaway PHOTONDRIFT_HOME, signs in as admin
in headless Chromium, trains the demo coordination model through the API, waits for it to
finish, and photographs the session page and the overview. Same flow as tests/browser.

    .venv/bin/python docs/images/make_screenshot.py
"""

from __future__ import annotations

import sys
import tempfile
from pathlib import Path

HERE = Path(__file__).resolve().parent
sys.path.insert(0, str(HERE.parents[1]))

from tests.browser.server import (  # noqa: E402  (needs the repository root on sys.path)
    VIEWPORT,
    EmbeddedServer,
    launch_chromium,
    login,
    start_demo_training,
    wait_for_training,
)

EPOCHS = 40
DEADLINE_S = 300


def main() -> None:
    from playwright.sync_api import sync_playwright

    with (
        tempfile.TemporaryDirectory(prefix="photondrift-shots-") as home,
        EmbeddedServer(home=Path(home)) as server,
        sync_playwright() as playwright,
    ):
        browser = launch_chromium(playwright)
        context = browser.new_context(viewport=VIEWPORT)
        page = context.new_page()
        login(page, server)
        session_id = start_demo_training(context, server, epochs=EPOCHS)["session_id"]
        status = wait_for_training(context, server, session_id, timeout=DEADLINE_S)
        if status != "succeeded":
            raise SystemExit(f"training session {session_id} is {status!r} after {DEADLINE_S}s:\n{server.log_tail()}")

        page.goto(f"{server.base_url}/sessions/{session_id}/")
        page.wait_for_selector("#confusion-chart .main-svg")
        page.wait_for_selector("#live.on")
        page.wait_for_timeout(500)  # let Plotly finish its resize pass
        page.screenshot(path=str(HERE / "session-page.png"), full_page=True)

        page.goto(f"{server.base_url}/")
        page.wait_for_load_state("networkidle")
        page.wait_for_timeout(500)
        page.screenshot(path=str(HERE / "overview.png"), full_page=True)
        browser.close()
    print(f"wrote {HERE / 'session-page.png'} and {HERE / 'overview.png'}")


if __name__ == "__main__":
    main()
