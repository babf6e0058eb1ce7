"""Make docs/images/session-page.png and docs/images/overview.png from a real run.

Starts the embedded server on a free port with a throwaway PHOTONDRIFT_HOME, signs in as admin
in headless Chromium, trains the demo coordination model through the API, waits for it to
finish, and photographs the session page and the overview. Same flow as tests/browser.

    .venv/bin/python docs/images/make_screenshot.py
"""

from __future__ import annotations

import sys
import tempfile
import time
from pathlib import Path

HERE = Path(__file__).resolve().parent
sys.path.insert(0, str(HERE.parents[1]))

from tests.browser.server import (  # noqa: E402  (needs the repository root on sys.path)
    VIEWPORT,
    EmbeddedServer,
    launch_chromium,
    login,
    session_status,
    start_training,
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
        session = start_training(
            context,
            server,
            pattern_type="coordination",
            training_data="demo-coordination",
            epochs=EPOCHS,
            config={"early_stopping": False},
        )
        session_id = session["session_id"]
        wait_finished(context, server, session_id)

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


def wait_finished(context, server: EmbeddedServer, session_id: int) -> None:
    deadline = time.monotonic() + DEADLINE_S
    while time.monotonic() < deadline:
        status = session_status(context, server, session_id)
        if status == "succeeded":
            return
        if status in ("failed", "stopped"):
            raise SystemExit(f"training session {session_id} {status}:\n{server.log_tail()}")
        time.sleep(0.5)
    raise SystemExit(f"training session {session_id} did not finish in {DEADLINE_S}s")


if __name__ == "__main__":
    main()
