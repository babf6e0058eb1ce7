"""Importing a folder (a `.neural-training.yml` data source such as ``./data/operations/``).

Every file under the folder (recursively, hidden names skipped) that an importer recognises is
read; together they become ONE new version of the data set. The files' names and SHA-256 sums
make a fingerprint kept on the version (``operation.params.fingerprint``): importing the same
folder again while nothing changed returns that version and stores nothing.
"""

from __future__ import annotations

import hashlib
from pathlib import Path

import pandas as pd

from neural.datasets import limits
from neural.datasets.generator import PATTERN_TARGETS
from neural.datasets.importers import open_importer
from neural.datasets.models import Dataset
from neural.datasets.services import check_size, dataset_store_frame, validate_pattern
from neural.engine.artifacts import sha256_file
from neural.engine.names import validate_name
from neural.errors import DataError

OPERATION = "import-folder"


def folder_files(folder: Path) -> list[Path]:
    """Every regular file under ``folder``, hidden ones (and hidden folders) left out, sorted."""
    if not folder.is_dir():
        raise DataError(f"{folder} is not a folder", field="folder")
    return sorted(
        p
        for p in folder.rglob("*")
        if p.is_file() and not p.is_symlink() and not any(part.startswith(".") for part in p.relative_to(folder).parts)
    )


def folder_fingerprint(folder: Path, files: list[Path]) -> str:
    """SHA-256 over each file's relative path and SHA-256: changes when any file does."""
    digest = hashlib.sha256()
    for path in files:
        digest.update(f"{path.relative_to(folder).as_posix()}\0{sha256_file(path)}\n".encode())
    return digest.hexdigest()


def dataset_import_folder(*, name: str, folder: Path, pattern: str, owner=None) -> tuple[Dataset, bool]:
    """The data set version holding every recognised file of ``folder``, and whether it is new.

    Raises:
        DataError: no file is recognised, a file is too large or unreadable, or no target column.
    """
    validate_name(name)
    validate_pattern(pattern)
    files = folder_files(folder)
    fingerprint = folder_fingerprint(folder, files)
    latest = Dataset.objects.filter(name=name).order_by("-version").first()
    if latest is not None and (latest.operation or {}).get("params", {}).get("fingerprint") == fingerprint:
        return latest, False
    frames, read, skipped, target = [], [], [], None
    for path in files:
        check_size(path.stat().st_size)
        relative = path.relative_to(folder).as_posix()
        try:
            importer = open_importer(path)
        except DataError as exc:  # not a format we know: listed on the version, not imported
            skipped.append({"file": relative, "why": exc.message})
            continue
        frame = importer.read(path)
        frame.columns = [str(c) for c in frame.columns]
        frames.append(frame)
        read.append(relative)
        target = target or importer.default_target
    if not frames:
        raise DataError(
            f"{folder} holds no file the importers recognise ({len(files)} files looked at)", field="folder"
        )
    df = pd.concat(frames, ignore_index=True, sort=False)
    limits.check_shape(len(df), len(df.columns))
    target = _target(df, target, pattern)
    operation = {
        "op": OPERATION,
        "params": {"folder": str(folder), "fingerprint": fingerprint},
        "summary": {"files": read, "skipped": skipped},
    }
    dataset = dataset_store_frame(
        df=df, name=name, target=target, pattern=pattern, owner=owner, source_format="folder", operation=operation
    )
    return dataset, True


def _target(df: pd.DataFrame, found: str | None, pattern: str) -> str:
    """The formats' own target, else the pattern's (``success``, ``bottleneck``, ``high_risk``)."""
    for candidate in (found, PATTERN_TARGETS.get(pattern)):
        if candidate and candidate in df.columns:
            return candidate
    raise DataError(
        f"the files have no {PATTERN_TARGETS.get(pattern) or 'target'!r} column to predict for a {pattern} model; "
        f"columns are: {', '.join(map(str, df.columns[:20]))}",
        field="target",
    )
