"""The one loader (a version folder, compressed or not, verified, to a predictor) and the
predictor that validates JSON records and predicts.

A later predictor kind (an ensemble) is chosen here, from ``model.json``, so that every caller
(serving, validation, retraining, export) keeps calling ``load_predictor``.
"""

from __future__ import annotations

from pathlib import Path

import numpy as np
import pandas as pd
import torch

from neural.engine.archive import read_version
from neural.engine.networks import TabularMLP, build_network
from neural.engine.preprocessing import TabularPreprocessor, TargetEncoder


class TabularPredictor:
    """Validates records against the feature schema and runs the network on the CPU."""

    def __init__(
        self, network: TabularMLP, preprocessor: TabularPreprocessor, encoder: TargetEncoder, meta: dict
    ) -> None:
        self.network = network.eval()
        self.preprocessor = preprocessor
        self.encoder = encoder
        self.meta = meta

    @property
    def feature_names(self) -> list[str]:
        return [c.name for c in self.preprocessor.features]

    def predict_frame(self, df: pd.DataFrame) -> list[dict]:
        x_num, x_cat = self.preprocessor.transform(df)
        with torch.inference_mode():
            out = self.network(torch.from_numpy(x_num), torch.from_numpy(x_cat)).float()
        if not self.encoder.task.is_classification:
            values = self.encoder.inverse_regression(out.squeeze(-1).numpy())
            return [{"prediction": float(v)} for v in values]
        proba = torch.softmax(out, dim=1).numpy()
        labels = self.encoder.classes_
        best = proba.argmax(axis=1)
        keys = [str(label) for label in labels]
        return [
            {
                "prediction": labels[b],
                "probabilities": dict(zip(keys, np.round(p.astype(np.float64), 6).tolist(), strict=True)),
            }
            for b, p in zip(best, proba, strict=True)
        ]

    def predict_records(self, records: list[dict]) -> list[dict]:
        """Validate then predict. Raises InputValidationError listing every bad field."""
        self.preprocessor.validate_records(records)
        return self.predict_frame(pd.DataFrame.from_records(records, columns=self.feature_names))


def load_predictor(directory: Path) -> TabularPredictor:
    """Verify every checksum of a version folder (zstd-compressed or not), then build its
    network. Never unpickles anything.

    Raises:
        ArtifactIntegrityError: a file is missing, altered or not listed, or the format is unknown.
    """
    state, meta = read_version(directory)
    network = build_network(meta["architecture"])
    network.load_state_dict(state)
    return TabularPredictor(
        network, TabularPreprocessor.from_dict(meta["preprocessing"]), TargetEncoder.from_dict(meta["target"]), meta
    )
