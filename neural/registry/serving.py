"""Predictions with the active (or a named) version, from a per-process cache of loaded models.

Each call asks the database which version answers; the cache is keyed by that version's id and
artifact checksum, so an activation elsewhere takes effect on the next request, without restart.
"""

from __future__ import annotations

import threading
from pathlib import Path

from django.conf import settings

from neural.engine.predictor import TabularPredictor
from neural.errors import DataError
from neural.monitoring.models import PredictionLog
from neural.registry.models import ModelVersion
from neural.registry.selectors import model_version_resolve

_cache: dict[tuple[int, str], TabularPredictor] = {}
_lock = threading.Lock()


def predictor_for(version: ModelVersion) -> TabularPredictor:
    key = (version.pk, version.sha256)
    predictor = _cache.get(key)
    if predictor is None:
        with _lock:
            predictor = _cache.get(key)
            if predictor is None:
                predictor = TabularPredictor.from_artifact(Path(settings.MODEL_STORAGE_PATH) / version.artifact_path)
                for stale in [k for k in _cache if k[0] == version.pk or len(_cache) >= 32]:
                    _cache.pop(stale, None)
                _cache[key] = predictor
    return predictor


def predict(*, model_ref: str, records: list[dict]) -> tuple[ModelVersion, list[dict]]:
    """Validate ``records``, predict, and log each prediction; each result gets a prediction_id."""
    if not records:
        raise DataError("at least one input is needed", field="inputs")
    if len(records) > settings.PREDICT_BATCH_MAX:
        raise DataError(
            f"{len(records)} inputs exceed the limit of {settings.PREDICT_BATCH_MAX} (PREDICT_BATCH_MAX)",
            field="inputs",
        )
    version = model_version_resolve(ref=model_ref)
    predictor = predictor_for(version)
    results = predictor.predict_records(records)
    logs = [
        PredictionLog(model_version=version, inputs=record, output=result)
        for record, result in zip(records, results, strict=True)
    ]
    PredictionLog.objects.bulk_create(logs)
    for log, result in zip(logs, results, strict=True):
        result["prediction_id"] = str(log.id)
    return version, results
