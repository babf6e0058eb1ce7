"""PHOTONDRIFT_HOME and the SQLite file in it are private to their owner."""

from __future__ import annotations

import os
import stat
import subprocess
import sys
from pathlib import Path

from photondrift.settings.home import private_home, private_sqlite

ROOT = Path(__file__).resolve().parents[2]


def _mode(path: Path) -> int:
    return stat.S_IMODE(path.stat().st_mode)


def test_a_new_home_is_0700_and_an_existing_one_keeps_its_mode(tmp_path):
    assert _mode(private_home(tmp_path / "new" / "home")) == 0o700
    shared = tmp_path / "shared"
    shared.mkdir(mode=0o755)
    shared.chmod(0o755)
    assert _mode(private_home(shared)) == 0o755


def test_an_open_database_file_is_closed_to_others(tmp_path):
    db = tmp_path / "db.sqlite3"
    db.write_bytes(b"")
    db.chmod(0o644)
    Path(f"{db}-wal").write_bytes(b"")
    Path(f"{db}-wal").chmod(0o666)
    private_sqlite(db)
    assert _mode(db) == 0o600 and _mode(Path(f"{db}-wal")) == 0o600


def test_the_embedded_database_is_created_0600(tmp_path):
    home = tmp_path / "home"
    env = {k: v for k, v in os.environ.items() if not k.startswith(("DJANGO_", "DATABASE_URL", "PHOTONDRIFT_"))}
    env.update(DJANGO_SETTINGS_MODULE="photondrift.settings", PHOTONDRIFT_HOME=str(home))
    code = "from django.db import connection; connection.cursor().execute('CREATE TABLE t (x int)')"
    out = subprocess.run(
        [sys.executable, "manage.py", "shell", "-c", code], cwd=ROOT, env=env, capture_output=True, text=True
    )
    assert out.returncode == 0, out.stderr
    assert _mode(home) == 0o700
    files = [p for p in home.iterdir() if p.name.startswith("db.sqlite3")]
    assert files and all(_mode(p) == 0o600 for p in files), [(p.name, oct(_mode(p))) for p in files]
    assert _mode(home / "secret_key") == 0o600
