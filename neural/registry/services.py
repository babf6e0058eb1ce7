"""Writes for the registry: register a version, activate, delete, and the A/B rollout.

Every change of which version answers takes the model row's lock (``select_for_update``) first,
so concurrent activations of one model run one after the other; the partial unique index
``one_active_version_per_model`` is the last line of defence, and a violation is reported as a
409, never as a second active version. Each change writes an ActivationEvent (who, when, from,
to) in the same transaction.
"""

from __future__ import annotations

import shutil

from django.db import IntegrityError, transaction
from django.utils import timezone

from neural.engine import artifacts
from neural.engine.archive import WEIGHTS_ZST
from neural.engine.pipeline import TrainedModel
from neural.engine.predictor import load_predictor
from neural.errors import Conflict, DataError
from neural.registry import storage
from neural.registry.models import ActivationEvent, EnsembleMember, ModelVersion, RegisteredModel
from neural.registry.signals import model_deleting, model_version_registered
from neural.registry.versions import folder_size, model_version_create, model_version_next
from photondrift.realtime import DASHBOARD_GROUP, RegistryActivated, broadcast


def _who(user):
    return user if getattr(user, "is_authenticated", False) else None


def _record(model: RegisteredModel, action: str, *, user=None, from_version=None, to_version=None, detail=""):
    return ActivationEvent.objects.create(
        model=model,
        model_name=model.name,
        action=action,
        from_version=from_version,
        to_version=to_version,
        detail=detail,
        user=_who(user),
    )


def model_version_register(*, session, trained: TrainedModel, parent: ModelVersion | None = None) -> ModelVersion:
    """Write the artifact and the version row; the first version of a model becomes active.

    The model row is locked while the version number is chosen, so concurrent trainings of one
    model get distinct numbers. ``session.config["model_storage"]`` may ask for zstd compression
    and a backup copy. If the row cannot be written, the artifact folder and its backup are removed.
    """
    dataset = session.dataset
    options = storage.storage_options(session.config)
    with transaction.atomic():
        model, number = model_version_next(name=session.model_name, defaults={"pattern": session.pattern})
        active = model.active_version()
        if not options.versioning and active is not None:
            return _version_replace(session=session, trained=trained, version=active, options=options, parent=parent)
        relative = options.relative(model.name, number)
        meta = {
            **trained.meta(),
            "model": model.name,
            "version": number,
            "pattern": session.pattern,
            "dataset": {"name": dataset.name, "version": dataset.version, "sha256": dataset.sha256},
            "session_id": session.pk,
            "parent_version": parent.version if parent else None,
        }
        directory = storage.version_dir(relative)
        # Left by a crash between writing and committing: never part of a committed version.
        storage.clear_stale_version(directory)
        backup = None
        try:
            artifacts.save_model(directory, trained.network, meta)
            if options.compression == "zstd":
                storage.compress(directory)
            backup = storage.backup_copy(directory, relative, options.backup)
            version = model_version_create(
                model=model,
                number=number,
                relative=relative,
                directory=directory,
                **_trained_fields(trained, session=session, dataset=dataset, parent=parent),
            )
            model_version_registered.send(sender=ModelVersion, version=version, trained=trained)
            if version.is_active:
                _record(model, ActivationEvent.Action.ACTIVATE, user=session.owner, to_version=number)
        except BaseException:
            shutil.rmtree(directory, ignore_errors=True)
            if backup is not None:
                shutil.rmtree(backup, ignore_errors=True)
            raise
    return version


def _trained_fields(trained: TrainedModel, *, session, dataset, parent) -> dict:
    """The columns a trained network sets on its version row, whether it adds or replaces one."""
    return {
        "session": session,
        "dataset": dataset,
        "parent": parent,
        "task": str(trained.encoder.task),
        "metrics": trained.metrics,
        "test_metrics": trained.test_metrics,
        "classes": trained.encoder.classes_,
        "confusion_matrix": trained.confusion_matrix,
        "config": trained.config.to_dict(),
        "split": trained.split,
        "n_parameters": trained.architecture()["parameters"],
    }


def _version_replace(*, session, trained: TrainedModel, version: ModelVersion, options, parent) -> ModelVersion:
    """``model_storage.versioning: false``: the new network takes the place of the active
    version (same number, same folder) instead of adding one. It is written beside the old
    folder and verified (checksums, and loaded as a predictor) before two renames swap it in;
    until then the old files stay, and on any failure they are all that remains."""
    dataset = session.dataset
    directory = storage.version_dir(version.artifact_path)
    tmp = directory.with_name(f".{directory.name}.new")
    shutil.rmtree(tmp, ignore_errors=True)
    meta = {
        **trained.meta(),
        "model": version.model.name,
        "version": version.version,
        "pattern": session.pattern,
        "dataset": {"name": dataset.name, "version": dataset.version, "sha256": dataset.sha256},
        "session_id": session.pk,
        "parent_version": parent.version if parent else None,
        "replaced": {"sha256": version.sha256, "session_id": version.session_id},
    }
    try:
        artifacts.save_model(tmp, trained.network, meta)
        if options.compression == "zstd":
            storage.compress(tmp)
        artifacts.verify_bundle(tmp)
        load_predictor(tmp)  # the new files must load before the old ones go
        ModelVersion.objects.filter(pk=version.pk).update(
            **_trained_fields(trained, session=session, dataset=dataset, parent=parent),
            sha256=artifacts.sha256_file(tmp / artifacts.SUMS),
            size_bytes=folder_size(tmp),
            compression="zstd" if (tmp / WEIGHTS_ZST).exists() else "",
        )
        version.refresh_from_db()
        model_version_registered.send(sender=ModelVersion, version=version, trained=trained)
        artifacts.swap_folder(tmp, directory)  # the last step that can fail before the commit
        storage.backup_copy(directory, version.artifact_path, options.backup)
    except BaseException:
        shutil.rmtree(tmp, ignore_errors=True)
        raise
    return version


def _switch_active(model: RegisteredModel, version: ModelVersion) -> ModelVersion | None:
    """With the model row locked: make ``version`` the active one. Returns the previous one."""
    if version.model_id != model.pk:
        raise DataError(f"{version} is not a version of model {model.name!r}", field="version")
    current = model.active_version()
    if current and current.pk == version.pk:
        raise Conflict(f"{model.name}:v{version.version} is already active", field="version")
    model.versions.filter(is_active=True).update(is_active=False)
    ModelVersion.objects.filter(pk=version.pk, model=model).update(is_active=True)
    if model.candidate_id == version.pk:
        model.candidate, model.candidate_weight, model.rollout_started_at = None, 0, None
        model.save(update_fields=["candidate", "candidate_weight", "rollout_started_at"])
    transaction.on_commit(lambda: _announce_activation(model, version, current))
    return current


def _announce_activation(model: RegisteredModel, version: ModelVersion, previous: ModelVersion | None) -> None:
    """Tell open pages (after the commit: the database is the truth) which version answers now."""
    data: RegistryActivated = {
        "model": model.name,
        "version": version.label,
        "from_version": previous.label if previous else None,
        "validation_accuracy": version.metrics.get("val_accuracy"),
        "test_accuracy": version.test_metrics.get("accuracy"),
    }
    broadcast(DASHBOARD_GROUP, "registry.activated", dict(data))


def _locked(model_id: int) -> RegisteredModel:
    return RegisteredModel.objects.select_for_update().get(pk=model_id)


def model_version_activate(*, version: ModelVersion, user=None, detail: str = "") -> ModelVersion:
    """Make ``version`` the one active version of its model and record who did it.

    Activating an older version than the current one is recorded as a rollback.

    Raises:
        Conflict: the version is already active, or a concurrent change won the race.
    """
    try:
        with transaction.atomic():
            model = _locked(version.model_id)
            current = _switch_active(model, version)
            action = (
                ActivationEvent.Action.ROLLBACK
                if current and version.version < current.version
                else ActivationEvent.Action.ACTIVATE
            )
            _record(
                model,
                action,
                user=user,
                from_version=current.version if current else None,
                to_version=version.version,
                detail=detail[:200],
            )
    except IntegrityError as exc:
        raise Conflict("another activation of this model happened at the same time; retry", field="version") from exc
    version.refresh_from_db()
    return version


def model_delete(*, model: RegisteredModel, user=None, force: bool = False) -> None:
    """Delete a model, its versions and their artifacts; refused while a version is active
    unless ``force``. The deletion stays in the activation history (by model name)."""
    with transaction.atomic():
        model = _locked(model.pk)
        used = (
            EnsembleMember.objects.filter(member__model=model)
            .exclude(ensemble__model=model)
            .select_related("member__model", "ensemble__model")
            .first()
        )
        if used is not None:
            raise Conflict(
                f"{used.member} is a member of ensemble {used.ensemble}; delete model "
                f"{used.ensemble.model.name!r} first",
                field="model",
            )
        active = model.active_version()
        if active and not force:
            raise Conflict(
                f"model {model.name!r} has an active version v{active.version}; pass force=true to delete it",
                field="model",
            )
        relatives = list(model.versions.values_list("artifact_path", flat=True))
        _record(
            model,
            ActivationEvent.Action.DELETE,
            user=user,
            from_version=active.version if active else None,
            detail=f"{len(relatives)} version(s) deleted" + (" (forced)" if force and active else ""),
        )
        model_deleting.send(sender=RegisteredModel, model=model)
        model.delete()  # the event's model link becomes NULL; model_name keeps the history
        transaction.on_commit(lambda: storage.remove_versions(relatives))


def model_rollout_start(
    *, model: RegisteredModel, version: ModelVersion, weight: int, user=None, detail: str = ""
) -> RegisteredModel:
    """Send ``weight`` percent of predictions (1-99) to ``version``; the active version keeps the rest."""
    if not isinstance(weight, int) or isinstance(weight, bool) or not 1 <= weight <= 99:
        raise DataError("weight must be a whole percentage between 1 and 99", field="weight")
    with transaction.atomic():
        model = _locked(model.pk)
        if version.model_id != model.pk:
            raise DataError(f"{version} is not a version of model {model.name!r}", field="version")
        active = model.active_version()
        if active is None:
            raise Conflict(f"model {model.name!r} has no active version to split traffic with", field="version")
        if active.pk == version.pk:
            raise Conflict(f"v{version.version} is the active version; pick another as the candidate", field="version")
        if model.candidate_id != version.pk:
            model.rollout_started_at = timezone.now()
        model.candidate, model.candidate_weight = version, weight
        model.save(update_fields=["candidate", "candidate_weight", "rollout_started_at"])
        _record(
            model,
            ActivationEvent.Action.ROLLOUT,
            user=user,
            from_version=active.version,
            to_version=version.version,
            detail=(f"{weight}% of traffic to v{version.version}" + (f"; {detail}" if detail else ""))[:200],
        )
    return model


def model_rollout_promote(*, model: RegisteredModel, user=None) -> RegisteredModel:
    """Make the rollout's candidate the active version and end the split, in one transaction."""
    with transaction.atomic():
        model = _locked(model.pk)
        candidate = model.candidate
        if candidate is None:
            raise Conflict(f"model {model.name!r} has no rollout in progress", field="model")
        current = _switch_active(model, candidate)
        _record(
            model,
            ActivationEvent.Action.PROMOTE,
            user=user,
            from_version=current.version if current else None,
            to_version=candidate.version,
        )
    model.refresh_from_db()
    return model


def model_rollout_abort(*, model: RegisteredModel, user=None) -> RegisteredModel:
    """End the split: all traffic goes back to the active version."""
    with transaction.atomic():
        model = _locked(model.pk)
        candidate = model.candidate
        if candidate is None:
            raise Conflict(f"model {model.name!r} has no rollout in progress", field="model")
        active = model.active_version()
        model.candidate, model.candidate_weight, model.rollout_started_at = None, 0, None
        model.save(update_fields=["candidate", "candidate_weight", "rollout_started_at"])
        _record(
            model,
            ActivationEvent.Action.ABORT,
            user=user,
            from_version=candidate.version,
            to_version=active.version if active else None,
        )
    return model


def model_version_deploy_record(*, version: ModelVersion, user=None, detail: str = "") -> None:
    """Record that an already-active version passed a deployment gate (who, what, why), so the
    activation history shows each deployment even when it changed nothing."""
    with transaction.atomic():
        model = _locked(version.model_id)
        _record(
            model,
            ActivationEvent.Action.DEPLOY,
            user=user,
            from_version=version.version,
            to_version=version.version,
            detail=detail[:200],
        )


def model_version_robustness_set(*, version: ModelVersion, report: dict) -> ModelVersion:
    """Store a robustness report with the version (the latest one replaces the previous)."""
    ModelVersion.objects.filter(pk=version.pk).update(robustness=report)
    version.robustness = report
    return version
