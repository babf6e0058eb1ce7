"""Fixtures for monitoring: a trained model whose predictions go through the real serving path."""

from __future__ import annotations

import pandas as pd
import pytest

from neural.datasets.generator import generate
from neural.registry.models import ModelVersion
from neural.serving.services import predict


def flush_prediction_log() -> None:
    """The registry may write the prediction log off the request path; wait for it."""
    from neural.serving.logwriter import log_writer

    assert log_writer.flush(30)


def records_from(df: pd.DataFrame, version: ModelVersion) -> list[dict]:
    """Feature columns only, NaN as None (an explicit missing value), as JSON clients send them."""
    dataset = version.dataset
    features = [c["name"] for c in dataset.schema if not c.get("excluded") and c["name"] != dataset.target]
    frame = df[features].astype(object)
    return frame.where(frame.notna(), None).to_dict("records")


def serve(version: ModelVersion, df: pd.DataFrame) -> list[dict]:
    """Predict every row of ``df`` with ``version`` through serving; returns the results."""
    _, results = predict(model_ref=f"{version.model.name}:v{version.version}", records=records_from(df, version))
    flush_prediction_log()
    return results


@pytest.fixture
def version(trained) -> ModelVersion:
    return ModelVersion.objects.select_related("model").get(pk=trained.model_version_id)


@pytest.fixture
def fresh_rows():
    """Same-distribution rows the model never saw (another seed of the generator)."""
    df, _ = generate(pattern="coordination", rows=300, seed=11)
    return df
