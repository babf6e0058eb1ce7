"""Failures at run time in the CLI: one line on stderr, a non-zero exit, no traceback, nothing
half-written (the way a user running manage.py sees them, through run_from_argv)."""

from __future__ import annotations

import errno

import pytest
from django.conf import settings
from django.core.management import ManagementUtility

from neural.datasets.models import Dataset

CSV = "load,queue,ok\n" + "".join(f"{i % 7},{'ab'[i % 2]},{i % 3 == 0}\n" for i in range(40))


def run_cli(capsys, monkeypatch, *args) -> tuple[int, str]:
    # run_from_argv closes the database connections when it ends; the test's transaction needs its own.
    monkeypatch.setattr("django.core.management.base.connections.close_all", lambda: None)
    with pytest.raises(SystemExit) as exited:
        ManagementUtility(["manage.py", *args]).execute()
    return exited.value.code, capsys.readouterr().err


def test_a_full_disk_during_data_import_is_one_line_and_leaves_nothing(db, tmp_path, capsys, monkeypatch):
    source = tmp_path / "history.csv"
    source.write_text(CSV)

    def full_disk(path, schema, batches):
        with open(path, "wb") as fh:
            fh.write(b"PAR1 half a file")
        raise OSError(errno.ENOSPC, "No space left on device", path)

    monkeypatch.setattr("neural.datasets.storage._write_row_groups", full_disk)
    code, err = run_cli(capsys, monkeypatch, "data", "import", "--name", "h", "--file", str(source), "--target", "ok")
    assert code == 1
    assert err.strip().count("\n") == 0 and "No space left on device" in err and "Traceback" not in err
    assert not Dataset.objects.exists()
    assert [p for p in settings.DATASET_STORAGE_PATH.rglob("*") if p.is_file()] == []


@pytest.mark.parametrize(
    ("args", "field"),
    [
        (["data", "import", "--name", "../../x", "--file", "{csv}", "--target", "ok"], "name"),
        (
            ["training", "neural-train", "--pattern", "coordination", "--data", "coord", "--model-name", "a/b"],
            "model_name",
        ),
        (
            ["training", "neural-train", "--pattern", "coordination", "--data", "coord", "--session-name", ".s"],
            "session_name",
        ),
    ],
)
def test_a_name_that_is_not_a_slug_is_refused_by_the_cli(dataset, tmp_path, capsys, monkeypatch, args, field):
    source = tmp_path / "history.csv"
    source.write_text(CSV)
    code, err = run_cli(capsys, monkeypatch, *[a.format(csv=source) for a in args])
    assert code == 2 and f"{field} must be" in err and err.strip().count("\n") == 0
    assert Dataset.objects.count() == 1  # the fixture's; nothing new
