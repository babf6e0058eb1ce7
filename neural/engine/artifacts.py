"""Files on disk: safetensors for tensors, JSON for metadata, and a SHA256SUMS over both.

Never pickles. A bundle is written into a temporary sibling folder and renamed into place, so a
crash leaves either the old bundle or the new one, never half of one. Every read verifies every
checksum first.
"""

from __future__ import annotations

import hashlib
import json
import os
import shutil
import tempfile
from pathlib import Path

import torch
from safetensors import SafetensorError
from safetensors.torch import load_file, save_file

from neural.engine.errors import ArtifactIntegrityError

FORMAT_VERSION = 1
SUMS = "SHA256SUMS"
WEIGHTS = "weights.safetensors"
MODEL_JSON = "model.json"


def sha256_file(path: Path, chunk: int = 1 << 20) -> str:
    digest = hashlib.sha256()
    with path.open("rb") as fh:
        while block := fh.read(chunk):
            digest.update(block)
    return digest.hexdigest()


def swap_folder(tmp: Path, directory: Path) -> None:
    """Put the finished folder ``tmp`` (a sibling) at ``directory``, replacing what is there.

    Two renames: a reader sees the old folder or the new one, never a half-written one.
    """
    if not directory.exists():
        os.replace(tmp, directory)
        return
    old = directory.with_name(f".{directory.name}.old")
    shutil.rmtree(old, ignore_errors=True)
    os.replace(directory, old)
    os.replace(tmp, directory)
    shutil.rmtree(old, ignore_errors=True)


def write_bundle(directory: Path, tensors: dict[str, dict[str, torch.Tensor]], documents: dict[str, dict]) -> str:
    """Write ``name.safetensors`` per tensor group and ``name`` per JSON document, atomically.

    Returns:
        The SHA-256 of the SHA256SUMS file, which identifies the whole bundle.
    """
    directory.parent.mkdir(parents=True, exist_ok=True)
    tmp = Path(tempfile.mkdtemp(prefix=f".{directory.name}.", dir=directory.parent))
    try:
        for filename, group in tensors.items():
            save_file({k: v.detach().cpu().contiguous() for k, v in group.items()}, str(tmp / filename))
        for filename, document in documents.items():
            (tmp / filename).write_text(json.dumps(document, indent=2, sort_keys=True))
        names = sorted([*tensors, *documents])
        (tmp / SUMS).write_text("".join(f"{sha256_file(tmp / n)}  {n}\n" for n in names))
        swap_folder(tmp, directory)
    except BaseException:
        shutil.rmtree(tmp, ignore_errors=True)
        raise
    return sha256_file(directory / SUMS)


def verify_bundle(directory: Path) -> dict[str, str]:
    """Check every file listed in SHA256SUMS.

    Raises:
        ArtifactIntegrityError: a file is missing or its checksum differs.
    """
    sums_path = directory / SUMS
    if not sums_path.is_file():
        raise ArtifactIntegrityError(f"{directory}: {SUMS} is missing")
    expected = {}
    for line in sums_path.read_text().splitlines():
        digest, _, name = line.partition("  ")
        if not digest or not name or "/" in name or name.startswith("."):
            raise ArtifactIntegrityError(f"{directory}: malformed {SUMS} line {line!r}")
        expected[name] = digest
    for name, digest in expected.items():
        path = directory / name
        if not path.is_file():
            raise ArtifactIntegrityError(f"{directory}: {name} is missing")
        if sha256_file(path) != digest:
            raise ArtifactIntegrityError(
                f"{directory}: checksum mismatch for {name}; the file was altered or truncated"
            )
    return expected


def read_tensors(directory: Path, filename: str) -> dict[str, torch.Tensor]:
    """The tensors of a safetensors file; a damaged or foreign file is an ArtifactIntegrityError."""
    try:
        return load_file(str(directory / filename))
    except SafetensorError as exc:
        raise ArtifactIntegrityError(f"{directory}: {filename} is not a readable safetensors file ({exc})") from exc


def read_document(directory: Path, filename: str) -> dict:
    """A JSON document of a bundle; one that is not a JSON object is an ArtifactIntegrityError."""
    try:
        document = json.loads((directory / filename).read_text())
    except (ValueError, RecursionError) as exc:
        raise ArtifactIntegrityError(f"{directory}: {filename} is not valid JSON") from exc
    if not isinstance(document, dict):
        raise ArtifactIntegrityError(f"{directory}: {filename} is not a JSON object")
    return document


def save_model(directory: Path, model: torch.nn.Module, meta: dict) -> str:
    """Write a model version: weights, model.json (``meta`` plus the format version), sums."""
    return write_bundle(
        directory, {WEIGHTS: model.state_dict()}, {MODEL_JSON: {**meta, "format_version": FORMAT_VERSION}}
    )
