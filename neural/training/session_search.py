"""``advanced.hyperparameter_tuning`` of a training file: a search inside the session, before it trains.

The session's ``search`` holds ``{method, trials, space}`` (grid, random or bayesian; Optuna's
GridSampler, RandomSampler or TPESampler through engine.tuning.make_sampler). Each trial trains
on the session's own data set and split and is scored on the validation rows (accuracy, or R²
for regression); the test rows stay untouched. The best options are written into the session's
``config`` (what the final training then uses) and the outcome into ``search``, so the session
says what was searched and what was chosen. The study lives in memory: the trials of one session
run one after another in the process that trains it (`neural hyper-optimize` is the search that
spreads trials over workers).
"""

from __future__ import annotations

import optuna

from neural.engine import tuning
from neural.engine.config import TrainConfig
from neural.engine.errors import DataError, StopTraining
from neural.engine.schema import TaskKind
from neural.training.models import TrainingSession
from neural.training.progress import SessionProgress


def session_search_run(
    *, session: TrainingSession, inputs: dict, config: TrainConfig, progress: SessionProgress
) -> TrainConfig:
    """Run the session's search and return ``config`` with the best options (also stored).

    Raises:
        StopTraining: the session was asked to stop between two trials.
        DataError: no trial completed.
    """
    spec = dict(session.search)
    task = TaskKind(session.dataset.task)
    objective = "accuracy" if task.is_classification else "r2"
    key, direction = tuning.objective_for(task, objective)
    trials = spec["trials"]
    if spec["method"] == "grid":
        trials = min(trials, tuning.grid_size(spec["space"]))
    study = optuna.create_study(
        direction=direction,
        sampler=tuning.make_sampler(spec["method"], config.seed, spec["space"]),
        pruner=tuning.make_pruner(),
    )
    progress.on_log("info", f"hyperparameter search: {trials} {spec['method']} trials, optimising {objective}")
    for number in range(trials):
        if TrainingSession.objects.filter(pk=session.pk, stop_requested=True).exists():
            raise StopTraining
        study.optimize(
            lambda trial: tuning.run_trial(trial, **inputs, base=config, key=key, space=spec["space"]),
            n_trials=1,
            catch=(Exception,),  # a failed trial is recorded by Optuna (state FAIL) and counted below
        )
        frozen = study.trials[-1]
        if progress.token is not None:
            progress.beat()
        progress.on_log("info", f"trial {number + 1}/{trials}: {frozen.state.name.lower()} {frozen.value}")
    complete = [t for t in study.trials if t.state == optuna.trial.TrialState.COMPLETE]
    if not complete:
        raise DataError(f"the hyperparameter search completed no trial of {trials}", field="hyperparameter_tuning")
    best = study.best_trial
    chosen = tuning.config_from_params(best.params, config)
    counts = {s.name.lower(): sum(t.state == s for t in study.trials) for s in optuna.trial.TrialState}
    spec.update(
        objective=objective, best_params=best.params, best_value=best.value, best_trial=best.number, counts=counts
    )
    TrainingSession.objects.filter(pk=session.pk).update(search=spec, config=chosen.to_dict())
    progress.on_log("info", f"best of the search (trial {best.number}, {objective} {best.value:.4f}): {best.params}")
    return chosen
