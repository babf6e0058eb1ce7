"""The embedded mode's secret key: made once, kept beside the data, never committed."""

from __future__ import annotations

import secrets
from pathlib import Path


def embedded_secret_key(home: Path) -> str:
    path = home / "secret_key"
    if path.exists():
        return path.read_text().strip()
    home.mkdir(parents=True, exist_ok=True)
    key = secrets.token_urlsafe(50)
    path.write_text(key)
    path.chmod(0o600)
    return key
