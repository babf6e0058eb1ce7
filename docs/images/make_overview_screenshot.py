"""Make docs/images/overview.png, monitoring.png and runs.png from a real run.

Starts the embedded server with a throwaway PHOTONDRIFT_HOME, trains the demo coordination model
through the API, sends predictions and feedback labels through the API (so live accuracy has
data), runs a drift check, and photographs the overview, the monitoring page and the runs table in headless
Chromium. Same flow as tests/browser.

    .venv/bin/python docs/images/make_overview_screenshot.py
"""

from __future__ import annotations

import subprocess
import sys
import tempfile
from pathlib import Path

HERE = Path(__file__).resolve().parent
sys.path.insert(0, str(HERE.parents[1]))

from tests.browser.server import (  # noqa: E402  (needs the repository root on sys.path)
    VIEWPORT,
    EmbeddedServer,
    api,
    launch_chromium,
    login,
    python_executable,
    start_demo_training,
    wait_for_training,
)

# One coordination task as the demo data set's generator writes it (tests/factories.py has the
# same; importing it here would need Django set up in this process).
TASK = {
    "timestamp": "2026-01-03T10:00:00Z",
    "task_type": "code",
    "task_complexity": 3.0,
    "agent_type": "coder",
    "agent_skill": 0.9,
    "agent_load": 1,
    "priority": "high",
    "topology": "mesh",
    "swarm_size": 4,
}
EPOCHS = 12
DEADLINE_S = 300
PREDICTIONS = 40


def predict_and_label(context, server) -> None:
    """Predictions through the API and, for each, the label a user would send back: every third
    one the other class, so the live accuracy is a real share of right answers."""
    for i in range(PREDICTIONS):
        task = {**TASK, "agent_load": i % 5, "task_complexity": 1.0 + i % 4}
        status, out = api(context, server, "POST", "/api/v1/neural/predict", {"model": "coordination", "input": task})
        if status != 200:
            raise SystemExit(f"predict -> {status}: {out}")
        others = [c for c in out["probabilities"] if c != str(out["prediction"])]
        actual = others[0] if i % 3 == 0 and others else out["prediction"]
        for _ in range(40):  # the prediction log is written off the request path
            status, _ = api(
                context,
                server,
                "POST",
                "/api/v1/neural/feedback",
                {"prediction_id": out["prediction_id"], "actual": actual},
            )
            if status == 201:
                break


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
        session_id = start_demo_training(context, server, epochs=EPOCHS, session_name="demo-run")["session_id"]
        status = wait_for_training(context, server, session_id, timeout=DEADLINE_S)
        if status != "succeeded":
            raise SystemExit(f"training session {session_id} is {status!r} after {DEADLINE_S}s:\n{server.log_tail()}")
        predict_and_label(context, server)
        # A stored drift check, as the schedule would run it (the API's GET /drift only computes).
        subprocess.run(
            [python_executable(), "manage.py", "neural", "drift-detection", "--model", "coordination"],
            env=server.env,
            cwd=HERE.parents[1],
            check=True,
            timeout=120,
        )
        for path, name in (("/", "overview"), ("/monitoring/", "monitoring"), ("/sessions/", "runs")):
            page.goto(f"{server.base_url}{path}")
            page.wait_for_selector("#live.on")
            page.wait_for_load_state("networkidle")
            page.wait_for_timeout(700)  # let Plotly finish its resize pass
            page.screenshot(path=str(HERE / f"{name}.png"), full_page=True)
        browser.close()
    print(f"wrote {HERE / 'overview.png'}, monitoring.png and runs.png")


if __name__ == "__main__":
    main()
