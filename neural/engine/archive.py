"""Model versions on disk beyond the plain bundle: zstd compression and portable archives.

A version folder holds ``model.json``, ``weights.safetensors`` (or ``weights.safetensors.zst``
when compressed) and ``SHA256SUMS`` over them; every read verifies every checksum first.

A portable archive (``neural save``) is one uncompressed tar::

    manifest.json        {"format": "photondrift-model-archive", "format_version": 1, ...}
    files/<name>         the version folder's files, SHA256SUMS included
    members/<i>/<name>   an ensemble's member folders (their manifests in manifest.json "members")
    SHA256SUMS           over manifest.json and every files/<name> and members/<i>/<name>

Reading an archive never extracts blindly: only regular files with the names a version holds
(``VERSION_FILES``) are read, into memory, with a size cap; any other member (a README, a pickle,
a link, an absolute or ``..`` path) refuses the whole archive; every listed checksum must match
and every member must be listed. The manifest's model name must follow the name rule.
Nothing is ever unpickled (tensors are safetensors, metadata is JSON).
"""

from __future__ import annotations

import io
import json
import os
import re
import shutil
import tarfile
import tempfile
from hashlib import sha256
from pathlib import Path

import torch
import zstandard
from safetensors import SafetensorError
from safetensors.torch import load as load_safetensors_bytes

from neural.engine.artifacts import (
    FORMAT_VERSION,
    MODEL_JSON,
    SUMS,
    WEIGHTS,
    read_document,
    read_tensors,
    sha256_file,
    swap_folder,
    verify_bundle,
)
from neural.engine.errors import ArtifactIntegrityError
from neural.engine.names import NAME_RULE, is_valid_name

ARCHIVE_FORMAT = "photondrift-model-archive"
ARCHIVE_FORMAT_VERSION = 1
MANIFEST = "manifest.json"
WEIGHTS_ZST = WEIGHTS + ".zst"
MAX_MEMBER_BYTES = 2 << 30  # 2 GiB: a generous cap against decompression / archive bombs
COMPRESSIONS = ("none", "zstd")
# The only files a version folder holds, and so the only members an archive may carry.
VERSION_FILES = frozenset({MODEL_JSON, WEIGHTS, WEIGHTS_ZST, SUMS})
ARCHIVE_MEMBERS = frozenset({MANIFEST, SUMS, *(f"files/{n}" for n in VERSION_FILES)})
MAX_ENSEMBLE_MEMBERS = 64
_MEMBER_FILE = re.compile(r"members/(0|[1-9][0-9]?)/(" + "|".join(re.escape(n) for n in sorted(VERSION_FILES)) + r")")


def compression_from_config(value: object) -> str:
    """``model_storage.compression`` as written in .neural-training.yml -> "none" | "zstd".

    Accepts true/false, "zstd", "none"/"off"/"" (case-insensitive); anything else is an error.
    """
    word = value.strip().lower() if isinstance(value, str) else value
    if word is None or word is False or word in ("", "none", "off", "false"):
        return "none"
    if word is True or word in ("zstd", "true", "on"):
        return "zstd"
    raise ArtifactIntegrityError(f"model_storage.compression: {value!r} is not one of true, false, zstd, none")


def _write_sums(directory: Path, names: list[str]) -> str:
    (directory / SUMS).write_text("".join(f"{sha256_file(directory / n)}  {n}\n" for n in sorted(names)))
    return sha256_file(directory / SUMS)


def compress_bundle(directory: Path, level: int = 10) -> str:
    """Replace ``weights.safetensors`` by ``weights.safetensors.zst`` in a verified bundle.

    Works in a temporary sibling and renames into place, like ``write_bundle``.

    Returns:
        The SHA-256 of the new SHA256SUMS.
    """
    listed = verify_bundle(directory)
    tmp = Path(tempfile.mkdtemp(prefix=f".{directory.name}.z.", dir=directory.parent))
    try:
        names = []
        for name in listed:
            if name == WEIGHTS:
                raw = (directory / name).read_bytes()
                (tmp / WEIGHTS_ZST).write_bytes(zstandard.ZstdCompressor(level=level).compress(raw))
                names.append(WEIGHTS_ZST)
            else:
                shutil.copy2(directory / name, tmp / name)
                names.append(name)
        digest = _write_sums(tmp, names)
        swap_folder(tmp, directory)
    except BaseException:
        shutil.rmtree(tmp, ignore_errors=True)
        raise
    return digest


def read_version(directory: Path) -> tuple[dict[str, torch.Tensor], dict]:
    """Verify and read a version folder, compressed or not. Returns (state_dict, meta)."""
    listed = verify_bundle(directory)
    if MODEL_JSON not in listed:
        raise ArtifactIntegrityError(f"{directory}: {MODEL_JSON} is not listed in {SUMS}")
    meta = read_document(directory, MODEL_JSON)
    if meta.get("format_version") != FORMAT_VERSION:
        raise ArtifactIntegrityError(
            f"{directory}: format version {meta.get('format_version')!r} is not supported (expected {FORMAT_VERSION})"
        )
    if WEIGHTS_ZST in listed:
        with (directory / WEIGHTS_ZST).open("rb") as fh:
            reader = zstandard.ZstdDecompressor().stream_reader(fh)
            try:
                raw = reader.read(MAX_MEMBER_BYTES + 1)
            except zstandard.ZstdError as exc:
                raise ArtifactIntegrityError(f"{directory}: {WEIGHTS_ZST} is not valid zstd data ({exc})") from exc
        if len(raw) > MAX_MEMBER_BYTES:
            raise ArtifactIntegrityError(f"{directory}: {WEIGHTS_ZST} decompresses beyond the size limit")
        try:
            return load_safetensors_bytes(raw), meta
        except SafetensorError as exc:
            raise ArtifactIntegrityError(f"{directory}: {WEIGHTS_ZST} is not a readable safetensors file") from exc
    if WEIGHTS not in listed:
        raise ArtifactIntegrityError(f"{directory}: no weights file is listed in {SUMS}")
    return read_tensors(directory, WEIGHTS), meta


def write_archive(version_dir: Path, manifest: dict, dest: Path, *, with_members: list[tuple[Path, dict]] = ()) -> str:
    """Write one portable archive of a verified version folder to ``dest`` (atomically).

    ``with_members``: an ensemble's member folders with their manifests, carried alongside.

    Returns:
        The SHA-256 of the archive file.
    """
    listed = verify_bundle(version_dir)
    document = {**manifest, "format": ARCHIVE_FORMAT, "format_version": ARCHIVE_FORMAT_VERSION}
    if with_members:
        document["members"] = [member_manifest for _, member_manifest in with_members]
    files: dict[str, bytes] = {}
    for i, (member_dir, _) in enumerate(with_members):
        for name in [*verify_bundle(member_dir), SUMS]:
            files[f"members/{i}/{name}"] = (member_dir / name).read_bytes()
    members = {MANIFEST: json.dumps(document, indent=2, sort_keys=True, default=str).encode(), **files}
    for name in [*listed, SUMS]:
        members[f"files/{name}"] = (version_dir / name).read_bytes()
    sums = "".join(f"{sha256(data).hexdigest()}  {name}\n" for name, data in sorted(members.items()))
    members[SUMS] = sums.encode()
    dest.parent.mkdir(parents=True, exist_ok=True)
    fd, tmp_name = tempfile.mkstemp(prefix=f".{dest.name}.", dir=dest.parent)
    try:
        with os.fdopen(fd, "wb") as raw, tarfile.open(fileobj=raw, mode="w", format=tarfile.PAX_FORMAT) as tar:
            for name in [MANIFEST, *sorted(n for n in members if n not in (MANIFEST, SUMS)), SUMS]:
                info = tarfile.TarInfo(name)
                info.size = len(members[name])
                info.mode = 0o644
                tar.addfile(info, io.BytesIO(members[name]))
        os.replace(tmp_name, dest)
    except BaseException:
        Path(tmp_name).unlink(missing_ok=True)
        raise
    return sha256_file(dest)


def _read_members(path: Path) -> dict[str, bytes]:
    members: dict[str, bytes] = {}
    try:
        with tarfile.open(path, mode="r:") as tar:
            for info in tar:
                name = info.name
                if not info.isreg():
                    raise ArtifactIntegrityError(f"archive member {name!r} is not a regular file; refused")
                if (name not in ARCHIVE_MEMBERS and not _MEMBER_FILE.fullmatch(name)) or name in members:
                    raise ArtifactIntegrityError(f"archive member {name!r} is unexpected; refused")
                if info.size > MAX_MEMBER_BYTES:
                    raise ArtifactIntegrityError(f"archive member {name!r} is larger than the limit; refused")
                fh = tar.extractfile(info)
                data = fh.read() if fh else b""
                if len(data) != info.size:
                    raise ArtifactIntegrityError(f"archive member {name!r} is truncated")
                members[name] = data
    except (tarfile.TarError, EOFError, OSError) as exc:
        raise ArtifactIntegrityError(f"{path}: not a readable model archive, or truncated ({exc})") from exc
    return members


def read_archive(path: Path, workdir: Path) -> tuple[dict, Path]:
    """Verify an archive completely and write its version folder under ``workdir``.

    Returns:
        (manifest, folder) where folder holds the verified version files.

    Raises:
        ArtifactIntegrityError: truncated, tampered, unlisted member, wrong format or version.
    """
    if not path.is_file():
        raise ArtifactIntegrityError(f"{path}: no such file")
    members = _read_members(path)
    if SUMS not in members or MANIFEST not in members:
        raise ArtifactIntegrityError(f"{path}: {SUMS} or {MANIFEST} is missing; not a complete model archive")
    expected: dict[str, str] = {}
    for line in members[SUMS].decode("utf-8", "replace").splitlines():
        digest, _, name = line.partition("  ")
        if len(digest) != 64 or not name:
            raise ArtifactIntegrityError(f"{path}: malformed {SUMS} line {line!r}")
        expected[name] = digest
    unlisted = sorted(set(members) - set(expected) - {SUMS})
    if unlisted:
        raise ArtifactIntegrityError(f"{path}: members not covered by {SUMS}: {', '.join(unlisted)}")
    for name, digest in expected.items():
        if name not in members:
            raise ArtifactIntegrityError(f"{path}: {name} is missing (truncated archive?)")
        if sha256(members[name]).hexdigest() != digest:
            raise ArtifactIntegrityError(f"{path}: checksum mismatch for {name}; the archive was altered or damaged")
    try:
        manifest = json.loads(members[MANIFEST])
    except ValueError as exc:
        raise ArtifactIntegrityError(f"{path}: {MANIFEST} is not valid JSON") from exc
    if manifest.get("format") != ARCHIVE_FORMAT:
        raise ArtifactIntegrityError(f"{path}: not a PhotonDrift model archive (format {manifest.get('format')!r})")
    if manifest.get("format_version") != ARCHIVE_FORMAT_VERSION:
        raise ArtifactIntegrityError(
            f"{path}: archive format version {manifest.get('format_version')!r} is not supported "
            f"(expected {ARCHIVE_FORMAT_VERSION})"
        )
    check_manifest(manifest, source=path)
    folder = workdir / "version"
    folder.mkdir(parents=True)
    for name, data in members.items():
        if name.startswith("files/"):
            (folder / name.removeprefix("files/")).write_bytes(data)
    read_version(folder)  # the version's own SHA256SUMS, format version and tensors
    _write_member_folders(manifest, members, folder, source=path)
    return manifest, folder


def member_folders(folder: Path, manifest: dict) -> list[Path]:
    """The verified member folders ``read_archive`` wrote for an ensemble (none for a network)."""
    return [folder.parent / "members" / str(i) for i in range(len(manifest.get("members") or []))]


def _write_member_folders(manifest: dict, members: dict[str, bytes], folder: Path, *, source: Path) -> None:
    listed = manifest.get("members") or []
    if not isinstance(listed, list) or len(listed) > MAX_ENSEMBLE_MEMBERS:
        raise ArtifactIntegrityError(f"{source}: {MANIFEST} members must be a list of at most {MAX_ENSEMBLE_MEMBERS}")
    present = {int(m.group(1)) for name in members if (m := _MEMBER_FILE.fullmatch(name))}
    if present - set(range(len(listed))):
        raise ArtifactIntegrityError(f"{source}: member files without a member manifest; refused")
    for i, member_manifest in enumerate(listed):
        check_manifest(member_manifest, source=source)
        target = folder.parent / "members" / str(i)
        target.mkdir(parents=True)
        for name, data in members.items():
            if name.startswith(f"members/{i}/"):
                (target / name.removeprefix(f"members/{i}/")).write_bytes(data)
        read_version(target)  # each member's own SHA256SUMS, format version and tensors


def check_manifest(manifest: object, *, source: Path) -> None:
    """The manifest's ``model.name`` is a valid name and ``version.version`` a positive number.

    Raises:
        ArtifactIntegrityError: naming the manifest key at fault.
    """
    model = manifest.get("model") if isinstance(manifest, dict) else None
    version = manifest.get("version") if isinstance(manifest, dict) else None
    if not isinstance(model, dict) or not isinstance(version, dict):
        raise ArtifactIntegrityError(f"{source}: {MANIFEST} must hold a model and a version mapping")
    if not is_valid_name(model.get("name")):
        raise ArtifactIntegrityError(f"{source}: {MANIFEST} model.name {model.get('name')!r} is not {NAME_RULE}")
    number = version.get("version")
    if not isinstance(number, int) or isinstance(number, bool) or number < 1:
        raise ArtifactIntegrityError(f"{source}: {MANIFEST} version.version {number!r} is not a positive number")
