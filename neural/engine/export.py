"""ONNX export of a tabular model: the network plus the output step (softmax, or the regression
target's scale), so an ONNX runtime gives the same numbers as the product's own predictions
from the same preprocessed inputs (``x_num`` float32, ``x_cat`` int64)."""

from __future__ import annotations

from pathlib import Path

import torch
from torch import nn

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


def export_onnx(predictor: TabularPredictor, path: Path) -> dict:
    """Write ``path`` (ONNX) for ``predictor``'s network in eval mode.

    Returns:
        What the file holds: input and output names and shapes, the class labels.
    """
    encoder = predictor.encoder
    classification = encoder.task.is_classification
    module = _WithOutputs(predictor.network.eval(), classification, encoder.mean_, encoder.std_).eval()
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
