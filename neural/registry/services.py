"""Writes for the registry: register a trained model as a new version, activate a version."""

from __future__ import annotations

import shutil
from pathlib import Path

from django.conf import settings
from django.db import transaction

from neural.engine import artifacts
from neural.engine.pipeline import TrainedModel
from neural.errors import Conflict
from neural.registry.models import ActivationEvent, ModelVersion, RegisteredModel
from neural.registry.signals import model_version_registered


def _artifact_dir(relative: str) -> Path:
    return Path(settings.MODEL_STORAGE_PATH) / relative


def model_version_register(*, session, trained: TrainedModel, parent: ModelVersion | None = None) -> ModelVersion:
    """Write the artifact and the version row; the first version of a model becomes active.

    The model row is locked while the version number is chosen, so concurrent trainings of one
    model get distinct numbers. If the row cannot be written the artifact folder is removed.
    """
    dataset = session.dataset
    with transaction.atomic():
        model, _ = RegisteredModel.objects.get_or_create(name=session.model_name, defaults={"pattern": session.pattern})
        model = RegisteredModel.objects.select_for_update().get(pk=model.pk)
        last = model.versions.order_by("-version").values_list("version", flat=True).first() or 0
        number = last + 1
        relative = f"{model.name}/v{number}"
        meta = {
            **trained.meta(),
            "model": model.name,
            "version": number,
            "pattern": session.pattern,
            "dataset": {"name": dataset.name, "version": dataset.version, "sha256": dataset.sha256},
            "session_id": session.pk,
            "parent_version": parent.version if parent else None,
        }
        directory = _artifact_dir(relative)
        if directory.exists():
            # Left by a crash between writing and committing: never part of a committed version.
            shutil.rmtree(directory)
        sha = artifacts.save_model(directory, trained.network, meta)
        try:
            version = ModelVersion.objects.create(
                model=model,
                version=number,
                session=session,
                dataset=dataset,
                parent=parent,
                task=str(trained.encoder.task),
                metrics=trained.metrics,
                test_metrics=trained.test_metrics,
                classes=trained.encoder.classes_,
                confusion_matrix=trained.confusion_matrix,
                config=trained.config.to_dict(),
                split=trained.split,
                artifact_path=relative,
                sha256=sha,
                size_bytes=sum(p.stat().st_size for p in directory.iterdir()),
                n_parameters=trained.architecture()["parameters"],
                is_active=not model.versions.filter(is_active=True).exists(),
            )
            model_version_registered.send(sender=ModelVersion, version=version, trained=trained)
            if version.is_active:
                ActivationEvent.objects.create(
                    model=model,
                    model_name=model.name,
                    action=ActivationEvent.Action.ACTIVATE,
                    to_version=number,
                    user=session.owner,
                )
        except BaseException:
            shutil.rmtree(directory, ignore_errors=True)
            raise
    return version


@transaction.atomic
def model_version_activate(*, version: ModelVersion, user=None) -> ModelVersion:
    """Make ``version`` the one active version of its model and record who did it."""
    model = RegisteredModel.objects.select_for_update().get(pk=version.model_id)
    current = model.versions.filter(is_active=True).first()
    if current and current.pk == version.pk:
        raise Conflict(f"{version} is already active", field="version")
    model.versions.filter(is_active=True).update(is_active=False)
    ModelVersion.objects.filter(pk=version.pk).update(is_active=True)
    action = (
        ActivationEvent.Action.ROLLBACK
        if current and version.version < current.version
        else ActivationEvent.Action.ACTIVATE
    )
    ActivationEvent.objects.create(
        model=model,
        model_name=model.name,
        action=action,
        from_version=current.version if current else None,
        to_version=version.version,
        user=user if getattr(user, "is_authenticated", False) else None,
    )
    version.refresh_from_db()
    return version
