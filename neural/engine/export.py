"""ONNX export of a tabular model: the network plus the output step (softmax, or the regression
target's scale), so an ONNX runtime gives the same numbers as the product's own predictions
from the same preprocessed inputs (``x_num`` float32, ``x_cat`` int64).

An ensemble exports as one graph (every member network, then the voting weights or the stacking
meta-model) when its members share one fitted preprocessing, so one (``x_num``, ``x_cat``)
feeds them all (bagged members trained together do); otherwise the export is refused, naming why.
"""

from __future__ import annotations

from pathlib import Path

import torch
from torch import nn

from neural.engine.ensemble import EnsemblePredictor
from neural.engine.errors import DataError
from neural.engine.predictor import TabularPredictor

OPSET = 17


class _WithOutputs(nn.Module):
    def __init__(self, network: nn.Module, classification: bool, mean: float, std: float) -> None:
        super().__init__()
        self.network, self.classification, self.mean, self.std = network, classification, mean, std

    def forward(self, x_num: torch.Tensor, x_cat: torch.Tensor) -> torch.Tensor:
        out = self.network(x_num, x_cat)
        if self.classification:
            return torch.softmax(out, dim=1)
        return out * self.std + self.mean


class _Ensemble(nn.Module):
    """Every member with its output step, stacked (members, n, outputs), then combined as
    ``ensemble.combine`` does."""

    def __init__(self, ensemble: EnsemblePredictor) -> None:
        super().__init__()
        self.members = nn.ModuleList(_with_outputs(m) for m in ensemble.members)
        self.method = ensemble.method
        self.classification = ensemble.encoder.task.is_classification
        for name, value in ensemble.params.items():
            self.register_buffer(name, torch.as_tensor(value, dtype=torch.float32))

    def forward(self, x_num: torch.Tensor, x_cat: torch.Tensor) -> torch.Tensor:
        outs = torch.stack([m(x_num, x_cat) for m in self.members])
        if self.method != "stacking":
            return (self.weights.view(-1, 1, 1) * outs).sum(dim=0)
        features = outs.permute(1, 0, 2).reshape(outs.shape[1], -1)
        scores = features @ self.coef.T + self.intercept
        return torch.softmax(scores, dim=1) if self.classification else scores


def _with_outputs(predictor: TabularPredictor) -> _WithOutputs:
    encoder = predictor.encoder
    classification = encoder.task.is_classification
    return _WithOutputs(predictor.network.eval(), classification, encoder.mean_, encoder.std_).eval()


def export_onnx(predictor: TabularPredictor | EnsemblePredictor, path: Path) -> dict:
    """Write ``path`` (ONNX) for ``predictor``'s network (or an ensemble's networks and their
    combination) in eval mode.

    Returns:
        What the file holds: input and output names and shapes, the class labels.

    Raises:
        DataError: an ensemble whose members were preprocessed differently (field ``model``).
    """
    encoder = predictor.encoder
    classification = encoder.task.is_classification
    if isinstance(predictor, EnsemblePredictor):
        if len(predictor.groups) > 1:
            raise DataError(
                f"this ensemble's members were fitted with {len(predictor.groups)} different preprocessings "
                "(different training rows), so no single input feeds one graph; export each member instead",
                field="model",
            )
        module = _Ensemble(predictor).eval()
    else:
        module = _with_outputs(predictor)
    n_numeric = predictor.preprocessor.n_numeric
    n_cat = len(predictor.preprocessor.cardinalities)
    example = (torch.zeros(2, n_numeric), torch.zeros(2, n_cat, dtype=torch.int64))
    path.parent.mkdir(parents=True, exist_ok=True)
    output = "probabilities" if classification else "prediction"
    torch.onnx.export(
        module,
        example,
        str(path),
        input_names=["x_num", "x_cat"],
        output_names=[output],
        dynamic_axes={"x_num": {0: "batch"}, "x_cat": {0: "batch"}, output: {0: "batch"}},
        opset_version=OPSET,
        dynamo=False,
    )
    return {
        "inputs": {"x_num": ["batch", n_numeric], "x_cat": ["batch", n_cat]},
        "output": output,
        "classes": [str(c) for c in encoder.classes_] if classification else [],
        "opset": OPSET,
    }
