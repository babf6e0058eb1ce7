"""Scheduled and triggered retraining, with a stated promotion rule, every run recorded.

The rule: retrain with the active version's own config on the newest version of its data set;
then score the candidate and the active version on the SAME hold-out rows (the test split of
the new data set, chosen by the deterministic split the training used; the validation split
when there is no test split). Classifiers compare accuracy, regressions mean absolute error.
The candidate is promoted when it is not worse: accuracy >= active - tolerance (MAE <= active +
tolerance). With ``rollout_weight`` > 0 a passing candidate starts an A/B rollout at that
percent instead of taking all traffic at once. A failing candidate stays registered, inactive.
"""

from __future__ import annotations

from django.db import transaction
from django.utils import timezone

from neural.datasets.models import Dataset
from neural.datasets.services import dataset_holdout, dataset_load_frame
from neural.engine.config import TrainConfig
from neural.engine.pipeline import split_rows
from neural.engine.schema import TaskKind
from neural.engine.scoring import score_frame
from neural.errors import Conflict, DataError
from neural.monitoring.models import RetrainPolicy, RetrainRun
from neural.monitoring.schedules import parse_schedule, retrain_schedule_set
from neural.registry.services import model_rollout_start, model_version_activate
from neural.registry.storage import version_load
from neural.training.services import training_session_create, training_session_run

Decision = RetrainRun.Decision


@transaction.atomic
def retrain_policy_set(
    *, model, schedule: str = "", on_drift: bool = False, tolerance: float = 0.0, rollout_weight: int = 0
) -> RetrainPolicy:
    parsed = parse_schedule(schedule)  # a DataError naming "schedule" before anything is written
    schedule = " ".join(schedule.split()) if parsed else ""
    if not 0 <= tolerance <= 1:
        raise DataError("must be between 0 and 1", field="tolerance")
    if not 0 <= rollout_weight <= 99:
        raise DataError("must be a percentage between 0 and 99", field="rollout_weight")
    policy, _ = RetrainPolicy.objects.update_or_create(
        model=model,
        defaults={"schedule": schedule, "on_drift": on_drift, "tolerance": tolerance, "rollout_weight": rollout_weight},
    )
    retrain_schedule_set(model=model, schedule=schedule)
    return policy


def rule_text(task: str, tolerance: float, rollout_weight: int) -> str:
    metric = "MAE <= active MAE" if task == "regression" else "accuracy >= active accuracy"
    sign = "+" if task == "regression" else "-"
    action = f"start an A/B rollout at {rollout_weight}%" if rollout_weight else "promote"
    return f"{action} when candidate {metric} {sign} {tolerance:g} on the same hold-out rows"


def holdout_score(version, frame, target: str, task: str) -> float:
    """The rule's figure for ``version`` on the hold-out rows: MAE (regression) or accuracy."""
    metrics = score_frame(version_load(version=version), frame, target)
    return metrics["mae"] if task == "regression" else metrics["accuracy"]


def retrain_run(*, model, reason: str, user=None) -> RetrainRun:
    """Retrain ``model`` in this process (a Celery worker, or the CLI) and apply the rule."""
    baseline = model.active_version()
    if baseline is None:
        raise Conflict(f"model {model.name!r} has no active version to retrain", field="model")
    if baseline.dataset is None:
        raise Conflict(f"{baseline} has no data set on this install to retrain on", field="model")
    dataset = Dataset.objects.filter(name=baseline.dataset.name).order_by("-version").first()
    policy = RetrainPolicy.objects.filter(model=model).first() or RetrainPolicy(model=model)
    run = RetrainRun.objects.create(
        model=model,
        reason=reason[:40],
        dataset=dataset,
        baseline=baseline,
        metric="mae" if baseline.task == "regression" else "accuracy",
        rule=rule_text(baseline.task, policy.tolerance, policy.rollout_weight),
    )
    config = TrainConfig.from_dict(baseline.config)
    session = training_session_create(
        user=user, dataset=dataset, pattern=model.pattern, config=config, model_name=model.name, enqueue=False
    )
    RetrainRun.objects.filter(pk=run.pk).update(session=session)
    try:
        return _train_and_judge(run, session, dataset, baseline, policy, config, model, user)
    except Exception as exc:
        _finish(run, Decision.FAILED, error=f"{type(exc).__name__}: {exc}")
        raise


def _train_and_judge(run, session, dataset, baseline, policy, config, model, user) -> RetrainRun:
    session = training_session_run(session_id=session.pk)
    if session.model_version_id is None:
        return _finish(run, Decision.FAILED, error=session.error or f"training ended {session.status}")
    candidate = session.model_version
    frame = dataset_load_frame(dataset)
    frame = frame[frame[dataset.target].notna()].reset_index(drop=True)
    split = split_rows(frame[dataset.target], TaskKind(dataset.task), config, dataset_holdout(frame))
    holdout = frame.iloc[split.test if len(split.test) else split.val]
    base_value = holdout_score(baseline, holdout, dataset.target, baseline.task)
    cand_value = holdout_score(candidate, holdout, dataset.target, baseline.task)
    if baseline.task == "regression":
        passes = cand_value <= base_value + policy.tolerance
    else:
        passes = cand_value >= base_value - policy.tolerance
    decision = Decision.KEPT
    if passes and policy.rollout_weight:
        model_rollout_start(model=model, version=candidate, weight=policy.rollout_weight, user=user)
        decision = Decision.ROLLOUT
    elif passes:
        model_version_activate(version=candidate, user=user)
        decision = Decision.PROMOTED
    return _finish(
        run,
        decision,
        candidate=candidate,
        baseline_value=base_value,
        candidate_value=cand_value,
        holdout_rows=len(holdout),
    )


def _finish(run: RetrainRun, decision: str, **fields) -> RetrainRun:
    for name, value in {**fields, "decision": decision, "finished_at": timezone.now()}.items():
        setattr(run, name, value)
    run.save()
    return run
