"""The production gate: validate each candidate version on held-out rows (and, when asked, its
robustness), then activate it or start a rollout; all or nothing, each change in the activation
history with who, what and why.

A model's enabled ``robustness_below`` alert rule is a gate too: its threshold is the minimum
robustness score (the stricter of it and ``--min-robustness``).

A candidate is the version named (``name:vN``) or the newest version of a model. The threshold is
the one given, else the pattern's seed target for classifiers (coordination 0.70, optimization
0.75, prediction 0.73, security 0.85); a regression without a given threshold is not gated.
"""

from __future__ import annotations

from django.db import transaction

from neural.datasets.models import PATTERN_TARGETS
from neural.errors import DataError, EngineError
from neural.monitoring.models import AlertRule
from neural.registry.models import ModelVersion, RegisteredModel
from neural.registry.robustness import version_robustness_run
from neural.registry.selectors import model_get
from neural.registry.services import model_rollout_start, model_version_activate, model_version_deploy_record
from neural.training import reports


def gate_threshold(version: ModelVersion, threshold: float | None) -> float | None:
    if threshold is not None:
        return threshold
    return PATTERN_TARGETS.get(version.model.pattern) if version.task != "regression" else None


def validation_row(version: ModelVersion, *, test_data: str | None, threshold: float | None) -> dict:
    """One line of the validation table; a version that cannot be scored fails with the reason."""
    limit = gate_threshold(version, threshold)
    row = {"model": version.model.name, "version": version.label, "threshold": limit}
    try:
        report = reports.validate(model_ref=str(version), dataset_ref=test_data)
    except EngineError as exc:
        return {
            **row,
            "metric": None,
            "score": None,
            "rows": 0,
            "data": test_data,
            "passed": False,
            "error": exc.message,
        }
    passed = True if limit is None else report["score"] >= limit
    return {**row, **{k: report[k] for k in ("metric", "score", "rows", "data")}, "passed": passed, "error": None}


def active_versions() -> list[ModelVersion]:
    return list(ModelVersion.objects.filter(is_active=True).select_related("model", "dataset").order_by("model__name"))


def validate_all(*, test_data: str | None = None, threshold: float | None = None) -> list[dict]:
    """Every active model on its held-out rows (or ``test_data``)."""
    return [validation_row(v, test_data=test_data, threshold=threshold) for v in active_versions()]


def deploy_candidates(*, refs: list[str] | None) -> list[ModelVersion]:
    """``refs`` (names or name:vN), or every model when None: each one's named or newest version."""
    if refs is None:
        models = list(RegisteredModel.objects.order_by("name"))
        refs = [m.name for m in models if m.versions.exists()]
        if not refs:
            raise DataError("no model has a version to deploy; train one first", field="model")
    candidates = []
    for ref in refs:
        name, _, number = ref.partition(":v")
        model = model_get(name=name)
        versions = model.versions.select_related("model", "dataset")
        version = versions.filter(version=int(number)).first() if number.isdigit() else versions.first()
        if version is None:
            raise DataError(f"model {name!r} has no version {('v' + number) if number else 'yet'}", field="model")
        candidates.append(version)
    return candidates


def required_robustness(model: RegisteredModel, given: float | None) -> float | None:
    """The stricter of ``given`` and the model's enabled robustness_below alert rules."""
    rules = AlertRule.objects.filter(model=model, kind=AlertRule.Kind.ROBUSTNESS_BELOW, enabled=True)
    limits = [r.threshold for r in rules] + ([given] if given is not None else [])
    return max(limits) if limits else None


def robustness_row(version: ModelVersion, minimum: float) -> dict:
    """The stored held-out robustness score, measured now when there is none."""
    report = version.robustness if "held-out" in (version.robustness or {}).get("data", "") else None
    report = report or version_robustness_run(version=version)
    score = report.get("score")
    return {"robustness": score, "min_robustness": minimum, "robust": score is not None and score >= minimum}


def deploy_production(
    *,
    refs: list[str] | None,
    threshold: float | None = None,
    rollout: int | None = None,
    min_robustness: float | None = None,
    test_data: str | None = None,
    user=None,
    reason: str = "",
) -> dict:
    """Validate every candidate; if all pass, activate them (or start rollouts) in one transaction.

    Returns ``{deployed, rows}``; with ``deployed`` False nothing was changed.
    """
    if rollout is not None and not 1 <= rollout <= 99:
        raise DataError("must be a whole percentage between 1 and 99", field="rollout")
    rows = []
    for version in deploy_candidates(refs=refs):
        row = validation_row(version, test_data=test_data, threshold=threshold)
        minimum = required_robustness(version.model, min_robustness)
        if minimum is not None:
            row.update(robustness_row(version, minimum))
            row["passed"] = row["passed"] and row["robust"]
        rows.append((version, row))
    if not all(row["passed"] for _, row in rows):
        return {"deployed": False, "rows": [row for _, row in rows]}
    with transaction.atomic():
        for version, row in rows:
            row["action"] = _apply(version, row, rollout=rollout, user=user, reason=reason)
    return {"deployed": True, "rows": [row for _, row in rows]}


def _why(row: dict, reason: str) -> str:
    if row["score"] is None:
        measured = "not scored"
    else:
        measured = f"{row['metric']} {row['score']:.4f}" + (
            f" >= {row['threshold']:g}" if row["threshold"] is not None else " (no threshold)"
        )
    robust = f", robustness {row['robustness']:.3f} >= {row['min_robustness']:g}" if "robustness" in row else ""
    return f"deploy --production: {measured} on {row['data']}{robust}" + (f"; {reason}" if reason else "")


def _apply(version: ModelVersion, row: dict, *, rollout: int | None, user, reason: str) -> str:
    why = _why(row, reason)
    if version.is_active:
        model_version_deploy_record(version=version, user=user, detail=why)
        return "already active (deployment recorded)"
    if rollout is not None and version.model.versions.filter(is_active=True).exists():
        model_rollout_start(model=version.model, version=version, weight=rollout, user=user, detail=why)
        return f"rollout: {rollout}% of traffic"
    model_version_activate(version=version, user=user, detail=why)
    return "activated"
