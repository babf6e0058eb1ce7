"""Ensemble versions: a version whose members are pinned versions of single networks, combined
by voting, weighted voting or stacking (``neural/engine/ensemble.py`` holds the arithmetic).

``ensemble_create`` checks the members (at least two, distinct, single networks, one task, the
same classes and input columns), fits the combination on the members' shared validation rows
(never their test rows), scores the ensemble and every member on the shared test rows side by
side, writes the folder (``model.json`` pinning each member's checksums, the combination's
tensors in ``weights.safetensors``) and the row with its member links, in one transaction:
any error leaves nothing stored.

Members share rows when they were trained on the same data set with the same split settings
(seed, validation and test fractions): bagged members, or models trained alike. Fitted weights
and stacking need them; plain voting and hand-given weights do not (the version then carries no
test figures: score it with ``neural validate --test-data``).
"""

from __future__ import annotations

import shutil
from dataclasses import dataclass

import numpy as np
import pandas as pd
from django.db import transaction

from neural.datasets.services import dataset_training_inputs
from neural.engine import ensemble as engine
from neural.engine.artifacts import MODEL_JSON, read_document
from neural.engine.config import TrainConfig
from neural.engine.errors import EngineError
from neural.engine.metrics import confusion
from neural.engine.names import validate_name
from neural.engine.pipeline import split_rows
from neural.errors import DataError, NotFound
from neural.registry import storage
from neural.registry.models import ActivationEvent, EnsembleMember, ModelVersion
from neural.registry.selectors import model_version_resolve
from neural.registry.signals import model_version_registered
from neural.registry.versions import model_version_create, model_version_next

SPLIT_KEYS = ("seed", "validation_split", "test_split")


@dataclass
class _Rows:
    """The members' shared validation and test rows, their labels, and the training rows."""

    train: pd.DataFrame
    val: pd.DataFrame
    test: pd.DataFrame
    y_val: np.ndarray
    y_test: np.ndarray


def ensemble_create(
    *, user, name: str, members: list[ModelVersion], method: str, weights: str | list[float] = "auto"
) -> ModelVersion:
    """Create an ensemble version of model ``name`` (created if new, with the first member's
    pattern) over the pinned ``members``; it becomes active when the model has no active version.

    Args:
        method: ``voting`` (equal weights), ``weighted`` or ``stacking``.
        weights: ``"auto"`` (fitted on validation rows, for ``weighted``) or one number per member.

    Raises:
        DataError: naming ``name``, ``models``, ``method`` or ``weights``; nothing is stored.
    """
    name = validate_name(name, field="name")
    if method not in engine.METHODS:
        raise DataError(f"method must be one of {', '.join(engine.METHODS)}", field="method")
    labels = [str(m) for m in members]
    if len(members) < engine.MIN_MEMBERS:
        raise DataError(f"an ensemble needs at least {engine.MIN_MEMBERS} members, got {len(members)}", field="models")
    duplicates = sorted({label for label in labels if labels.count(label) > 1})
    if duplicates:
        raise DataError(f"{', '.join(duplicates)} is named more than once", field="models")
    nested = [str(m) for m in members if m.kind == ModelVersion.Kind.ENSEMBLE]
    if nested:
        raise DataError(f"{nested[0]} is an ensemble; members must be single networks", field="models")
    if isinstance(weights, str) and weights != "auto":
        raise DataError('weights must be "auto" or one number per member', field="weights")
    if not isinstance(weights, str):
        if method != "weighted":
            raise DataError(f"weights apply to method weighted, not {method}", field="weights")
        engine.check_weights(weights, len(members))
    predictors = [storage.version_load(version=m) for m in members]
    engine.check_members(predictors, labels)
    rows = _shared_rows(members, predictors)
    fitted = method == "stacking" or (method == "weighted" and weights == "auto")
    if fitted and rows is None:
        raise DataError(
            "fitting weights or a meta-model needs members trained on the same data set with the same split "
            "(seed, validation_split, test_split), so that no member trained on the rows it is fitted on; "
            "give weights by hand or use voting",
            field="weights" if method == "weighted" else "method",
        )
    return _register(user, name, members, predictors, method, weights, rows)


def _shared_rows(members: list[ModelVersion], predictors) -> _Rows | None:
    """The validation and test rows every member left out, or None when they were split apart."""
    first = members[0]
    if first.dataset is None:
        return None
    for member in members:
        if member.dataset_id != first.dataset_id:
            return None
        if any(member.config.get(k) != first.config.get(k) for k in SPLIT_KEYS):
            return None
    inputs = dataset_training_inputs(first.dataset)
    df, target = inputs["df"], inputs["target"]
    keep = df[target].notna().to_numpy()
    df = df[keep].reset_index(drop=True)
    holdout = inputs["holdout"][keep] if inputs["holdout"] is not None else None
    settings = {k: first.config[k] for k in SPLIT_KEYS}
    split = split_rows(df[target], inputs["task"], TrainConfig(**settings), holdout)
    if not len(split.val):
        return None
    encoder = predictors[0].encoder

    def labels(frame: pd.DataFrame) -> np.ndarray:
        if encoder.task.is_classification:
            return encoder.transform(frame[target])
        return frame[target].to_numpy(dtype=np.float64)

    val, test = df.iloc[split.val], df.iloc[split.test]
    return _Rows(df.iloc[split.train], val, test, labels(val), labels(test))


def _figures(predictor: engine.EnsemblePredictor, method, weights, rows: _Rows | None, n_classes: int):
    """(params, validation metrics, test metrics, each member's test metrics, confusion matrix,
    the validation output) of the ensemble."""
    classification = predictor.encoder.task.is_classification
    members = len(predictor.members)
    if rows is None:
        w = np.full(members, 1.0 / members) if method == "voting" else engine.check_weights(weights, members)
        return {"weights": w}, {}, {}, [], None, None
    outputs = predictor.member_outputs(rows.val)
    params, val_output = engine.fit_combination(method, outputs, rows.y_val, n_classes=n_classes, weights=weights)
    val_metrics = {f"val_{k}": v for k, v in engine.output_metrics(val_output, rows.y_val, classification).items()}
    if not len(rows.test):
        return params, val_metrics, {}, [], None, val_output
    test_outputs = predictor.member_outputs(rows.test)
    test_output = engine.combine(method, test_outputs, params)
    test_metrics = engine.output_metrics(test_output, rows.y_test, classification)
    per_member = [engine.output_metrics(out, rows.y_test, classification) for out in test_outputs]
    matrix = confusion(rows.y_test, test_output.argmax(axis=1), n_classes) if classification else None
    return params, val_metrics, test_metrics, per_member, matrix, val_output


def _register(user, name, members, predictors, method, weights, rows: _Rows | None) -> ModelVersion:
    first = members[0]
    encoder = predictors[0].encoder
    n_classes = encoder.n_outputs
    draft = engine.EnsemblePredictor(predictors, "voting", {"weights": np.full(len(members), 1.0 / len(members))}, {})
    params, val_metrics, test_metrics, per_member, matrix, val_output = _figures(
        draft, method, weights, rows, n_classes
    )
    with transaction.atomic():
        model, number = model_version_next(name=name, defaults={"pattern": first.model.pattern})
        if model.pattern != first.model.pattern:
            raise DataError(
                f"model {name!r} is a {model.pattern} model; the members are {first.model.pattern} models", field="name"
            )
        relative = f"{model.name}/v{number}"
        directory = storage.version_dir(relative)
        storage.clear_stale_version(directory)
        entries = [
            engine.member_entry(
                storage.version_dir(m.artifact_path), model=m.model.name, version=m.version, path=m.artifact_path
            )
            for m in members
        ]
        member_figures = [
            {"member": str(m), "test_metrics": figures} for m, figures in zip(members, per_member, strict=True)
        ]
        described = {
            "method": method,
            "members": [str(m) for m in members],
            "weights": [round(float(w), 6) for w in params["weights"]] if "weights" in params else None,
            "weights_fitted": method == "weighted" and weights == "auto",
            "fitted_on": "validation rows" if rows is not None else "nothing (given by hand)",
        }
        # The row's config stays a training config (its first member's, one network's seed), so
        # what reads it as one (held-out rows, retraining) works: a retrain trains one network with
        # these settings and the rule compares it with the ensemble on the same hold-out rows.
        config = {**first.config, "bagging_seed": None}
        meta = {
            "method": method,
            "members": entries,
            "model": model.name,
            "version": number,
            "pattern": model.pattern,
            "target": {"name": predictors[0].meta.get("target", {}).get("name"), **encoder.to_dict()},
            "feature_schema": [c.to_dict() for c in predictors[0].preprocessor.features],
            "config": config,
            "ensemble": described,
            "split": first.split if rows is not None else {},
            "metrics": val_metrics,
            "test_metrics": test_metrics,
            "member_test_metrics": member_figures,
            "confusion_matrix": matrix,
            "dataset": {"name": first.dataset.name, "version": first.dataset.version, "sha256": first.dataset.sha256}
            if first.dataset is not None
            else None,
        }
        try:
            engine.save_ensemble(directory, meta, params)
            version = model_version_create(
                model=model,
                number=number,
                relative=relative,
                directory=directory,
                kind=ModelVersion.Kind.ENSEMBLE,
                dataset=first.dataset if rows is not None else None,
                task=str(encoder.task),
                metrics=val_metrics,
                test_metrics=test_metrics,
                classes=encoder.classes_,
                confusion_matrix=matrix,
                config=config,
                split=meta["split"],
                n_parameters=sum(m.n_parameters for m in members),
            )
            EnsembleMember.objects.bulk_create(
                EnsembleMember(ensemble=version, member=m, position=i) for i, m in enumerate(members)
            )
            model_version_registered.send(
                sender=ModelVersion, version=version, trained=None, reference=_reference(draft, rows, val_output, first)
            )
            if version.is_active:
                ActivationEvent.objects.create(
                    model=model,
                    model_name=model.name,
                    action=ActivationEvent.Action.ACTIVATE,
                    to_version=number,
                    detail=f"ensemble of {len(members)} ({method})",
                    user=user if getattr(user, "is_authenticated", False) else None,
                )
        except BaseException:
            shutil.rmtree(directory, ignore_errors=True)
            raise
    return version


def _reference(draft: engine.EnsemblePredictor, rows: _Rows | None, val_output, first: ModelVersion) -> dict:
    """What monitoring stores as the ensemble's drift reference and confidence calibration."""
    if rows is None:
        return {"copy_from": first}
    reference = {"train": rows.train, "features": draft.preprocessor.features}
    if draft.encoder.task.is_classification:
        reference.update(confidence=val_output.max(axis=1), correct=val_output.argmax(axis=1) == rows.y_val)
    return reference


def ensemble_members(*, version: ModelVersion) -> list[ModelVersion]:
    """An ensemble's pinned member versions, in its order (empty for a single network)."""
    links = EnsembleMember.objects.filter(ensemble=version).select_related("member__model").order_by("position")
    return [link.member for link in links]


def ensemble_members_resolve(*, refs: list[str]) -> list[ModelVersion]:
    """Member references (``name``: its active version, or ``name:vN``) to versions; an unknown
    one is a bad input naming ``models`` (400 / exit 2), not a missing page."""
    if not isinstance(refs, list) or not all(isinstance(r, str) and r.strip() for r in refs):
        raise DataError("models must be a list of model names (name or name:vN)", field="models")
    versions = []
    for ref in refs:
        try:
            versions.append(model_version_resolve(ref=ref.strip(), field="models"))
        except NotFound as exc:
            raise DataError(exc.message, field="models") from exc
    return versions


def ensemble_report(*, version: ModelVersion) -> dict | None:
    """How an ensemble combines (method, weights) and each member's test figures beside its own,
    from its ``model.json``; None for a single network."""
    if version.kind != ModelVersion.Kind.ENSEMBLE:
        return None
    try:
        meta = read_document(storage.version_dir(version.artifact_path), MODEL_JSON)
    except (OSError, EngineError) as exc:  # shown, not hidden: the page still lists the version
        message = exc.message if isinstance(exc, EngineError) else str(exc)
        return {"method": None, "members": [str(m) for m in ensemble_members(version=version)], "unreadable": message}
    figures = {entry.get("member"): entry.get("test_metrics") for entry in meta.get("member_test_metrics") or []}
    described = meta.get("ensemble") or {}
    return {
        "method": described.get("method"),
        "weights": described.get("weights"),
        "weights_fitted": described.get("weights_fitted"),
        "fitted_on": described.get("fitted_on"),
        "members": [{"member": name, "test_metrics": figures.get(name, {})} for name in described.get("members") or []],
        "ensemble_test_metrics": version.test_metrics,
    }


def side_by_side(members: list[dict], ensemble: dict) -> str:
    """One row per test metric: each member's value, then the ensemble's."""
    if not ensemble:
        return "  no shared test rows: score it with `neural validate --model M --test-data N`"
    names = [m["member"] for m in members] + ["ensemble"]
    width = max(len(n) for n in names)
    lines = ["  test " + " ".join(n.rjust(width) for n in names)]
    for key in ensemble:
        values = [m["test_metrics"].get(key) for m in members] + [ensemble[key]]
        cells = ["-".rjust(width) if v is None else f"{v:.4f}".rjust(width) for v in values]
        lines.append(f"  {key:<5}" + " " + " ".join(cells))
    return "\n".join(lines)
