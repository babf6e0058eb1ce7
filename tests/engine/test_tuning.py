from __future__ import annotations

import itertools

import optuna
import pytest
from optuna.trial import TrialState

from neural.engine import tuning
from neural.engine.config import TrainConfig
from neural.engine.errors import DataError
from neural.engine.schema import TaskKind
from tests.engine.test_training import learnable_frame

optuna.logging.set_verbosity(optuna.logging.WARNING)


def test_every_grid_point_is_a_valid_config_and_the_grid_method_visits_each_once():
    study = optuna.create_study(sampler=tuning.make_sampler("grid", seed=1))
    configs = []

    def objective(trial):
        configs.append(tuning.suggest_config(trial, TrainConfig()))
        return 0.5

    study.optimize(objective, n_trials=500)  # the grid sampler stops the study once every point is tried
    seen = {tuple(sorted(t.params.items())) for t in study.trials}
    grid = [tuple(p.grid_values()) for p in tuning.SPACES["hyper"]]
    assert len(study.trials) == len(seen) == len(list(itertools.product(*grid))) == tuning.grid_size() == 96
    assert {tuple(c.hidden_sizes) for c in configs} == {(256, 128), (512, 256)}


def test_random_draws_stay_in_the_space_and_the_same_seed_draws_the_same():
    def draws(seed):
        study = optuna.create_study(sampler=tuning.make_sampler("random", seed=seed))
        trial = study.ask()
        return tuning.suggest_config(trial, TrainConfig()), trial.params

    (config, params), (_, again), (_, other) = draws(7), draws(7), draws(8)
    assert params == again and params != other
    assert 1e-4 <= config.learning_rate <= 1e-2 and 0 <= config.dropout <= 0.5 and config.norm in ("batch", "layer")
    assert tuning.config_from_params(params, TrainConfig()) == config


def test_objectives_follow_the_task_and_refuse_the_other_tasks_figures():
    assert tuning.objective_for(TaskKind.BINARY, "accuracy") == ("val_accuracy", "maximize")
    assert tuning.objective_for(TaskKind.REGRESSION, "mae") == ("val_mae", "minimize")
    with pytest.raises(DataError) as err:
        tuning.objective_for(TaskKind.BINARY, "r2")
    assert err.value.field == "optimize" and "accuracy" in err.value.message
    with pytest.raises(DataError):
        tuning.make_sampler("annealing", seed=0)


def test_a_trial_trains_scores_validation_rows_and_reports_every_epoch():
    study = optuna.create_study(direction="maximize", sampler=tuning.make_sampler("random", seed=0))
    trial = study.ask()
    value = tuning.run_trial(trial, learnable_frame(), "label", base=TrainConfig(epochs=4), key="val_accuracy")
    study.tell(trial, value)
    done = study.trials[0]
    assert 0.5 < value <= 1.0 and done.state == TrialState.COMPLETE
    assert sorted(done.intermediate_values) == [1, 2, 3, 4]
    assert value in done.intermediate_values.values()  # the accuracy of the epoch training kept


def test_a_trial_the_pruner_rejects_stops_at_that_epoch():
    # A threshold no accuracy reaches: the pruner stops the trial after its first report.
    study = optuna.create_study(direction="maximize", pruner=optuna.pruners.ThresholdPruner(lower=2.0))
    trial = study.ask()
    with pytest.raises(optuna.TrialPruned, match="epoch 1"):
        tuning.run_trial(trial, learnable_frame(), "label", base=TrainConfig(epochs=5), key="val_accuracy")
    study.tell(trial, state=TrialState.PRUNED)
    assert list(study.trials[0].intermediate_values) == [1]


@pytest.mark.parametrize("space", ["efficient", "standard"])
def test_every_architecture_grid_point_builds_a_valid_config(space):
    study = optuna.create_study(sampler=tuning.make_sampler("grid", seed=0, space=space))
    shapes = set()

    def objective(trial):
        config = tuning.suggest_config(trial, TrainConfig(), space)
        shapes.add((tuple(config.hidden_sizes), config.residual, config.norm))
        return 0.0

    study.optimize(objective, n_trials=1000)
    assert len(study.trials) == tuning.grid_size(space)
    assert {p.name for p in tuning.SPACES[space]} == set(study.trials[0].params)
    assert len(shapes) == tuning.grid_size(space) // len(tuning.SPACES[space][-1].grid_values())  # all but dropout
    with pytest.raises(DataError, match="unknown search space 'huge'"):
        tuning.grid_size("huge")
