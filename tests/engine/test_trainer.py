from __future__ import annotations

import numpy as np
import pytest
import torch
from torch import nn

from neural.engine.config import TrainConfig
from neural.engine.errors import NonFiniteLoss
from neural.engine.networks import ResidualBlock, build_network, count_parameters, hidden_sizes_for_budget
from neural.engine.pipeline import train_tabular
from neural.engine.schema import TaskKind
from neural.engine.trainer import TensorData, Trainer
from tests.engine.test_training import learnable_frame


class Exploding(nn.Module):
    """Produces NaN after the first optimiser step, as a diverging network would."""

    def __init__(self) -> None:
        super().__init__()
        self.w = nn.Parameter(torch.zeros(2))

    def forward(self, x_num, x_cat):
        return x_num[:, :2] * self.w / self.w.abs().sum()


def _tensors(n: int = 64) -> TensorData:
    rng = np.random.default_rng(0)
    return TensorData.from_numpy(
        rng.normal(size=(n, 3)).astype(np.float32), np.zeros((n, 0), np.int64), rng.integers(0, 2, n)
    )


def test_it_stops_with_a_clear_error_when_the_loss_is_nan():
    with pytest.raises(NonFiniteLoss, match="non-finite at epoch 1"):
        Trainer(TrainConfig(epochs=3), TaskKind.BINARY).fit(Exploding(), _tensors(), _tensors())


@pytest.mark.parametrize(("architecture", "epochs"), [("mlp", 4), ("tabm", 10)])
def test_it_trains_with_bf16_autocast_on_the_cpu(architecture, epochs):
    config = TrainConfig(epochs=epochs, mixed_precision=True, architecture=architecture)
    trained = train_tabular(learnable_frame(), "label", config=config)
    assert trained.test_metrics["accuracy"] > 0.7


@pytest.mark.parametrize(("norm", "schedule"), [("layer", "onecycle"), ("batch", "cosine"), ("none", "plateau")])
def test_residual_networks_learn_with_each_norm_and_schedule(norm, schedule):
    config = TrainConfig(
        epochs=6, architecture="mlp", residual=True, norm=norm, lr_schedule=schedule, hidden_sizes=[64, 64, 64]
    )
    trained = train_tabular(learnable_frame(), "label", config=config)
    assert any(isinstance(m, ResidualBlock) for m in trained.network.modules())
    assert trained.meta()["architecture"]["norm"] == norm
    assert trained.test_metrics["accuracy"] > 0.75
    rebuilt = build_network(trained.meta()["architecture"])
    rebuilt.load_state_dict(trained.network.state_dict())


def test_class_weights_and_mse_regression_are_used():
    df = learnable_frame()
    trained = train_tabular(df, "label", config=TrainConfig(epochs=3, class_weights=True))
    assert trained.test_metrics["macro_f1"] > 0.6
    df["y"] = df["x1"] * 2 + df["x2"]
    reg = train_tabular(df.drop(columns="label"), "y", config=TrainConfig(epochs=10, regression_loss="mse"))
    assert reg.test_metrics["r2"] > 0.7
    assert {"val_r2", "val_mae"} <= set(reg.fit.history[-1])


def test_it_reports_every_per_epoch_figure():
    trained = train_tabular(learnable_frame(), "label", config=TrainConfig(epochs=2))
    row = trained.fit.history[-1]
    assert {"train_loss", "val_loss", "val_accuracy", "val_macro_f1", "val_roc_auc", "lr", "epoch_time_s"} <= set(row)


def test_distillation_fits_the_budget_and_learns_from_the_teacher():
    df = learnable_frame()
    teacher = train_tabular(df, "label", config=TrainConfig(epochs=6))

    def predict(rows):
        x_num, x_cat = teacher.preprocessor.transform(rows)
        with torch.no_grad():
            teacher.network.eval()
            return torch.softmax(teacher.network(torch.from_numpy(x_num), torch.from_numpy(x_cat)), 1).numpy()

    config = TrainConfig(epochs=30, batch_size=64)
    student = train_tabular(df, "label", config=config, teacher=predict, param_budget=1500)
    assert count_parameters(student.network) <= 1500 < count_parameters(teacher.network)
    assert student.test_metrics["accuracy"] > 0.75
    assert hidden_sizes_for_budget(student.meta()["architecture"], 10) is None
