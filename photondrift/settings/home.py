"""PHOTONDRIFT_HOME holds the SQLite database (accounts, token digests, sessions), the secret key
and every artifact: only its owner may read it."""

from __future__ import annotations

import os
from pathlib import Path

PRIVATE_DIR = 0o700
PRIVATE_FILE = 0o600


def private_home(home: Path) -> Path:
    """Make ``home`` (mode 0700) when it does not exist; an existing folder keeps its mode (it may
    be a volume shared on purpose)."""
    if not home.exists():
        home.mkdir(parents=True, mode=PRIVATE_DIR)
        home.chmod(PRIVATE_DIR)  # mkdir's mode is filtered by the umask
    return home


def private_sqlite(path: Path) -> Path:
    """Create the SQLite file 0600 before SQLite does (it would make it 0644), and take group and
    world access away from an existing one and its -wal and -shm files."""
    private_home(path.parent)
    os.close(os.open(path, os.O_CREAT | os.O_RDWR, PRIVATE_FILE))
    for name in (path, Path(f"{path}-wal"), Path(f"{path}-shm")):
        if name.exists() and name.stat().st_mode & 0o077:
            name.chmod(PRIVATE_FILE)
    return path
