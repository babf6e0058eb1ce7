"""Artifact files of model versions: where they live, compression, backup copies, and the
portable archive that `neural save` writes and `neural load` imports.

Every path here is resolved and must stay inside MODEL_STORAGE_PATH (``confined``) before
anything is written or deleted, and a folder is only ever replaced when it holds nothing but the
files a version folder has (``clear_stale_version``): never one the product did not write.
"""

from __future__ import annotations

import logging
import os
import shutil
import tempfile
from dataclasses import dataclass
from pathlib import Path

from django.conf import settings
from django.db import transaction

from neural.datasets.models import Dataset, Pattern
from neural.engine import archive
from neural.engine.artifacts import MODEL_JSON, SUMS, read_document, sha256_file, verify_bundle
from neural.engine.ensemble import EnsemblePredictor
from neural.engine.errors import ArtifactIntegrityError
from neural.engine.names import confined, validate_name
from neural.engine.predictor import TabularPredictor, load_predictor
from neural.errors import Conflict, DataError, UnsafePath
from neural.registry.models import ActivationEvent, EnsembleMember, ModelVersion
from neural.registry.versions import model_version_create, model_version_next

logger = logging.getLogger(__name__)


@dataclass(frozen=True)
class StorageOptions:
    compression: str = "none"
    backup: Path | None = None
    folder: str = ""  # model_storage.path, relative to MODEL_STORAGE_PATH ("" = the store itself)
    versioning: bool = True  # false: a training replaces the active version's files

    def relative(self, model: str, number: int) -> str:
        """Where version ``number`` of ``model`` lives, relative to MODEL_STORAGE_PATH."""
        return f"{self.folder}/{model}/v{number}" if self.folder else f"{model}/v{number}"


def storage_options(config: dict | None) -> StorageOptions:
    """``model_storage`` from a session's config (filled from .neural-training.yml), with defaults.

    Unknown keys are ignored here (the config parser owns that check); bad values are errors.
    """
    raw = (config or {}).get("model_storage") or {}
    if not isinstance(raw, dict):
        raise DataError("model_storage must be a mapping", field="model_storage")
    try:
        compression = archive.compression_from_config(raw.get("compression"))
    except ArtifactIntegrityError as exc:
        raise DataError(exc.message, field="model_storage.compression") from exc
    folder = ""
    if isinstance(raw.get("path"), str):
        folder = _inside_store(raw["path"], "model_storage.path").relative_to(storage_root()).as_posix()
    versioning = raw.get("versioning", True)
    if not isinstance(versioning, bool):
        raise DataError("model_storage.versioning must be true or false", field="model_storage.versioning")
    backup = raw.get("backup")
    if backup in (None, False, ""):
        return StorageOptions(compression, None, folder, versioning)
    if not isinstance(backup, str):
        raise DataError("model_storage.backup must be a folder path", field="model_storage.backup")
    return StorageOptions(compression, _inside_store(backup, "model_storage.backup"), folder, versioning)


def _inside_store(folder: str, field: str) -> Path:
    try:
        return confined(storage_root(), folder)
    except UnsafePath as exc:
        raise DataError(
            f"{field} must be a folder inside MODEL_STORAGE_PATH ({storage_root()}): {exc.message}", field=field
        ) from exc


def storage_root() -> Path:
    return Path(settings.MODEL_STORAGE_PATH).expanduser().resolve()


def version_dir(relative: str) -> Path:
    """The folder of a version (``ModelVersion.artifact_path``), refused unless inside the store."""
    return confined(storage_root(), relative)


def clear_stale_version(directory: Path) -> None:
    """Remove a version folder left by a crash before its row was committed, only when it holds
    nothing but the files a version folder has; anything else is not ours to delete.

    Raises:
        Conflict: the folder holds something else (or is a link).
    """
    if not directory.exists() and not directory.is_symlink():
        return
    if directory.is_symlink() or not directory.is_dir():
        raise Conflict(f"{directory} exists and is not a model version folder; not replaced", field="model")
    strangers = [p.name for p in directory.iterdir() if p.name not in archive.VERSION_FILES or not p.is_file()]
    if strangers:
        raise Conflict(
            f"{directory} holds files PhotonDrift did not write ({', '.join(sorted(strangers)[:5])}); not replaced",
            field="model",
        )
    shutil.rmtree(directory)


def version_load(*, version: ModelVersion) -> TabularPredictor | EnsemblePredictor:
    """The version's predictor, read from its folder and verified (``engine.predictor.load_predictor``);
    an ensemble's members are read from their pinned versions' folders."""
    if version.kind == ModelVersion.Kind.ENSEMBLE:
        return load_predictor(
            version_dir(version.artifact_path), [version_dir(m.artifact_path) for m in _members(version)]
        )
    return load_predictor(version_dir(version.artifact_path))


def _members(version: ModelVersion) -> list[ModelVersion]:
    links = EnsembleMember.objects.filter(ensemble=version).select_related("member__model").order_by("position")
    return [link.member for link in links]


def compress(directory: Path) -> str:
    return archive.compress_bundle(directory)


def backup_copy(directory: Path, relative: str, backup_root: Path | None) -> Path | None:
    """Copy a written version folder to ``backup_root/relative`` and verify the copy."""
    if backup_root is None:
        return None
    target = confined(backup_root, relative)
    if target.is_relative_to(directory) or directory.is_relative_to(target):
        raise DataError(f"model_storage.backup {backup_root} overlaps the version folder", field="model_storage.backup")
    target.parent.mkdir(parents=True, exist_ok=True)
    tmp = Path(tempfile.mkdtemp(prefix=f".{target.name}.", dir=target.parent))
    try:
        for item in directory.iterdir():
            shutil.copy2(item, tmp / item.name)
        verify_bundle(tmp)
        clear_stale_version(target)
        os.replace(tmp, target)
    except BaseException:
        shutil.rmtree(tmp, ignore_errors=True)
        raise
    return target


def remove_versions(relatives: list[str]) -> None:
    """Delete version folders, each only when it lies inside the store (a row written before
    names were checked may name a path outside it: that is logged and left alone)."""
    for relative in relatives:
        try:
            directory = version_dir(relative)
        except UnsafePath as exc:
            logger.warning("not deleting artifact %r: %s", relative, exc.message)
            continue
        shutil.rmtree(directory, ignore_errors=True)


def version_archive_write(*, version: ModelVersion, path: Path) -> dict:
    """Write one portable archive of ``version`` (files verified against the registry first); an
    ensemble's archive carries its members' folders and manifests too."""
    directory = _verified_dir(version)
    members = [(_verified_dir(m), _manifest(m)) for m in _members(version)]
    digest = archive.write_archive(directory, _manifest(version), path, with_members=members)
    return {"model": version.model.name, "version": version.label, "path": str(path), "sha256": digest}


def _verified_dir(version: ModelVersion) -> Path:
    directory = version_dir(version.artifact_path)
    verify_bundle(directory)
    if sha256_file(directory / SUMS) != version.sha256:
        raise ArtifactIntegrityError(f"{directory}: {SUMS} differs from the one registered for {version}")
    return directory


def _manifest(version: ModelVersion) -> dict:
    return {
        "model": {
            "name": version.model.name,
            "pattern": version.model.pattern,
            "description": version.model.description,
        },
        "version": {
            "version": version.version,
            "task": version.task,
            "metrics": version.metrics,
            "test_metrics": version.test_metrics,
            "classes": version.classes,
            "confusion_matrix": version.confusion_matrix,
            "config": version.config,
            "split": version.split,
            "n_parameters": version.n_parameters,
            "created_at": version.created_at.isoformat(),
            "sha256": version.sha256,
            "kind": version.kind,
        },
    }


def version_archive_import(*, path: Path, name: str | None = None, user=None) -> ModelVersion:
    """Verify an archive completely, then add it as the next version of model ``name`` (default:
    the name in the archive). It becomes active only if the model has no active version."""
    if name is not None:
        validate_name(name)
    root = storage_root()
    root.mkdir(parents=True, exist_ok=True)
    workdir = Path(tempfile.mkdtemp(prefix=".import-", dir=root))
    created: list[Path] = []  # folders moved into the store, removed again if anything fails
    try:
        manifest, folder = archive.read_archive(path, workdir)
        with transaction.atomic():
            members = [
                _import_member(member_manifest, member_folder, user, path, created)
                for member_manifest, member_folder in zip(
                    manifest.get("members") or [], archive.member_folders(folder, manifest), strict=True
                )
            ]
            version = _import_folder(manifest, folder, name, user, path, members=members)
            created.append(version_dir(version.artifact_path))
            if members:
                version_load(version=version)  # the members verify against the checksums it pinned
        return version
    except BaseException:
        for directory in created:
            shutil.rmtree(directory, ignore_errors=True)
        raise
    finally:
        shutil.rmtree(workdir, ignore_errors=True)


def _import_member(manifest: dict, folder: Path, user, source: Path, created: list[Path]) -> ModelVersion:
    """An ensemble member from an archive: the version of that model with the same files when
    this install has it, else imported as the next version of its model."""
    same = (
        ModelVersion.objects.select_related("model")
        .filter(
            model__name=(manifest.get("model") or {}).get("name"),
            sha256=sha256_file(folder / SUMS),
            kind=ModelVersion.Kind.NETWORK,
        )
        .first()
    )
    if same is not None:
        return same
    version = _import_folder(manifest, folder, None, user, source)
    created.append(version_dir(version.artifact_path))
    return version


def _import_folder(
    manifest: dict, folder: Path, name: str | None, user, source: Path, members: list[ModelVersion] = ()
) -> ModelVersion:
    info, model_info = manifest.get("version") or {}, manifest.get("model") or {}
    meta = read_document(folder, MODEL_JSON)
    name = validate_name(name or model_info.get("name"))
    pattern = model_info.get("pattern")
    if not name or pattern not in Pattern.values:
        raise ArtifactIntegrityError(f"{source}: the manifest names no model or an unknown pattern {pattern!r}")
    if not isinstance(meta.get("target"), dict) or "task" not in meta["target"]:
        raise ArtifactIntegrityError(f"{source}: {MODEL_JSON} names no target task")
    if (meta.get("kind") == "ensemble") != bool(members):
        raise ArtifactIntegrityError(f"{source}: an ensemble's archive must carry its members, and only an ensemble's")
    dataset_sha = (meta.get("dataset") or {}).get("sha256")
    dataset = Dataset.objects.filter(sha256=dataset_sha).order_by("-pk").first() if dataset_sha else None
    with transaction.atomic():
        model, number = model_version_next(
            name=name, defaults={"pattern": pattern, "description": model_info.get("description", "")}
        )
        if model.pattern != pattern:
            raise DataError(
                f"model {name!r} is a {model.pattern} model; the archive holds a {pattern} one", field="name"
            )
        relative = f"{model.name}/v{number}"
        target = version_dir(relative)
        clear_stale_version(target)
        target.parent.mkdir(parents=True, exist_ok=True)
        os.replace(folder, target)
        try:
            version = model_version_create(
                model=model,
                number=number,
                relative=relative,
                directory=target,
                dataset=dataset,
                task=meta["target"]["task"],
                metrics=info.get("metrics") or meta.get("metrics") or {},
                test_metrics=info.get("test_metrics") or meta.get("test_metrics") or {},
                classes=meta["target"].get("classes") or [],
                confusion_matrix=meta.get("confusion_matrix"),
                config=_named_architecture(meta),
                split=meta.get("split") or {},
                n_parameters=int(meta.get("architecture", {}).get("parameters", 0))
                or sum(m.n_parameters for m in members),
                kind=ModelVersion.Kind.ENSEMBLE if members else ModelVersion.Kind.NETWORK,
            )
            EnsembleMember.objects.bulk_create(
                EnsembleMember(ensemble=version, member=m, position=i) for i, m in enumerate(members)
            )
            ActivationEvent.objects.create(
                model=model,
                model_name=model.name,
                action=ActivationEvent.Action.IMPORT,
                to_version=number,
                detail=f"from {source.name} ({model_info.get('name')}:v{info.get('version')})"[:200],
                user=user if getattr(user, "is_authenticated", False) else None,
            )
        except BaseException:
            shutil.rmtree(target, ignore_errors=True)
            raise
    return version


def _named_architecture(meta: dict) -> dict:
    """A version's training config from its model.json, naming its network: one written before
    TabM became the default has none, and an option left out now means TabM (migration training
    0015 does the same for the rows already stored)."""
    config = dict(meta.get("config") or {})
    if "hidden_sizes" in config and "architecture" not in config:
        config["architecture"] = "tabm" if meta.get("architecture", {}).get("type") == "TabM" else "mlp"
    return config
