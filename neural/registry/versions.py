"""Creating a version row: the one place both ways of adding a version (training registers one,
``neural load`` imports one) number it, lock its model, and describe its folder."""

from __future__ import annotations

from pathlib import Path

from neural.engine.archive import WEIGHTS_ZST
from neural.engine.artifacts import SUMS, sha256_file
from neural.registry.models import ModelVersion, RegisteredModel


def folder_size(directory: Path) -> int:
    return sum(p.stat().st_size for p in directory.iterdir() if p.is_file())


def model_version_next(*, name: str, defaults: dict) -> tuple[RegisteredModel, int]:
    """Inside a transaction: model ``name`` (created with ``defaults`` if new), its row locked so
    that concurrent additions get distinct numbers, and the number of its next version."""
    model, _ = RegisteredModel.objects.get_or_create(name=name, defaults=defaults)
    model = RegisteredModel.objects.select_for_update().get(pk=model.pk)
    last = model.versions.order_by("-version").values_list("version", flat=True).first() or 0
    return model, last + 1


def model_version_create(
    *, model: RegisteredModel, number: int, relative: str, directory: Path, **fields
) -> ModelVersion:
    """The row of version ``number`` whose verified folder is in place at ``directory``.

    Its checksum, size and compression are read from the folder; it is active when the model has
    no active version. ``fields`` are the row's other columns (task, metrics, dataset, ...).
    """
    return ModelVersion.objects.create(
        model=model,
        version=number,
        artifact_path=relative,
        sha256=sha256_file(directory / SUMS),
        size_bytes=folder_size(directory),
        compression="zstd" if (directory / WEIGHTS_ZST).exists() else "",
        is_active=model.active_version() is None,
        **fields,
    )
