"""The ASGI entry point leaves what it loaded out of the garbage collector's full passes."""

from __future__ import annotations

import os
import subprocess
import sys

SHOW = "import gc; before = gc.get_freeze_count(); import photondrift.asgi; print(before, gc.get_freeze_count())"


def test_importing_the_application_freezes_what_it_loaded():
    env = {**os.environ, "DJANGO_SETTINGS_MODULE": "photondrift.settings.test"}
    out = subprocess.run([sys.executable, "-c", SHOW], env=env, capture_output=True, text=True, check=True)
    before, after = map(int, out.stdout.split())
    assert before == 0 and after > 100_000, out.stdout
