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
from neural.engine.ensemble import KIND as ENSEMBLE
from neural.engine.ensemble import EnsemblePredictor, build_predictor, check_members
from neural.engine.errors import ArtifactIntegrityError, EngineError
from neural.engine.names import confined
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

    def predict_array(self, df: pd.DataFrame) -> np.ndarray:
        """Probabilities (n, classes) or values (n,) in the target's units."""
        x_num, x_cat = self.preprocessor.transform(df)
        with torch.inference_mode():
            out = self.network(torch.from_numpy(x_num), torch.from_numpy(x_cat)).float()
        if self.encoder.task.is_classification:
            return torch.softmax(out, dim=1).numpy()
        return self.encoder.inverse_regression(out.squeeze(-1).numpy().astype(np.float64))

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


def load_predictor(directory: Path, member_dirs: list[Path] | None = None) -> TabularPredictor | EnsemblePredictor:
    """Verify every checksum of a version folder (zstd-compressed or not), then build its
    network, or, for an ensemble (``"kind": "ensemble"``), its members and their combination.
    Never unpickles anything.

    ``member_dirs``: an ensemble's member folders in its order (the registry passes its pinned
    versions' folders); by default the folders ``model.json`` records, relative to the store
    (two levels above ``directory``). Each must match the checksum the ensemble pinned.

    Raises:
        ArtifactIntegrityError: a file is missing, altered or not listed, the format is unknown,
            or an ensemble's member is missing, altered or itself an ensemble.
    """
    state, meta = read_version(directory)
    if meta.get("kind", "network") == ENSEMBLE:
        return _load_ensemble(directory, state, meta, member_dirs)
    network = build_network(meta["architecture"])
    network.load_state_dict(state)
    return TabularPredictor(
        network, TabularPreprocessor.from_dict(meta["preprocessing"]), TargetEncoder.from_dict(meta["target"]), meta
    )


def _load_ensemble(directory: Path, state: dict, meta: dict, member_dirs: list[Path] | None) -> EnsemblePredictor:
    entries = meta.get("members") or []
    if member_dirs is None:
        member_dirs = [confined(directory.parent.parent, str(entry.get("path", ""))) for entry in entries]
    if len(member_dirs) != len(entries):
        raise ArtifactIntegrityError(f"{directory}: the ensemble pins {len(entries)} members, {len(member_dirs)} given")
    members = [load_predictor(d) for d in member_dirs]
    try:
        check_members(members, [f"{e.get('model')}:v{e.get('version')}" for e in entries])
    except EngineError as exc:
        raise ArtifactIntegrityError(f"{directory}: {exc.message}") from exc
    return build_predictor(members, member_dirs, state, meta)
