"""Predictions with the active version (or a named one, or a rollout's candidate), from a
per-process cache of loaded models, logged off the request path.

Each call asks the database once which version answers (the active version and any rollout
candidate, in one query); the cache is keyed by that version's id and artifact checksum and
forgets versions of a model that no longer answer, so an activation made by another process
takes effect on the next request, without a restart.
"""

from __future__ import annotations

import hashlib
import random
import threading
import uuid
from dataclasses import dataclass
from pathlib import Path

from django.conf import settings
from django.db.models import F, Q

from neural.engine.archive import read_version
from neural.engine.fastpath import FastPredictor
from neural.engine.networks import build_network
from neural.engine.predictor import TabularPredictor
from neural.engine.preprocessing import TabularPreprocessor, TargetEncoder
from neural.errors import DataError, NotFound
from neural.monitoring.models import PredictionLog
from neural.registry.logwriter import log_writer
from neural.registry.models import ModelVersion
from neural.registry.scores import score_for
from neural.registry.selectors import model_get, model_version_resolve

_cache: dict[tuple[int, str], FastPredictor] = {}
_by_model: dict[int, set[tuple[int, str]]] = {}
_lock = threading.Lock()
CACHE_SIZE = 32


def load_predictor(directory: Path) -> TabularPredictor:
    """Verify every checksum (compressed or not), then build the network. Never unpickles."""
    state, meta = read_version(directory)
    network = build_network(meta["architecture"])
    network.load_state_dict(state)
    return TabularPredictor(
        network, TabularPreprocessor.from_dict(meta["preprocessing"]), TargetEncoder.from_dict(meta["target"]), meta
    )


def predictor_for(version: ModelVersion) -> FastPredictor:
    key = (version.pk, version.sha256)
    predictor = _cache.get(key)
    if predictor is None:
        with _lock:
            predictor = _cache.get(key)
            if predictor is None:
                predictor = FastPredictor(load_predictor(Path(settings.MODEL_STORAGE_PATH) / version.artifact_path))
                if len(_cache) >= CACHE_SIZE:
                    _cache.clear()
                    _by_model.clear()
                _cache[key] = predictor
                _by_model.setdefault(version.model_id, set()).add(key)
    return predictor


def _forget_others(model_id: int, keep: set[tuple[int, str]]) -> None:
    """Drop cached versions of ``model_id`` that no longer answer (activation elsewhere)."""
    cached = _by_model.get(model_id)
    if cached and not cached <= keep:
        with _lock:
            for key in cached - keep:
                _cache.pop(key, None)
            _by_model[model_id] = cached & keep


@dataclass
class Route:
    version: ModelVersion
    arm: str  # "active", "candidate" or "pinned" (name:vN)


def bucket(model_name: str, caller: str) -> float:
    """A stable number in [0, 100) for a caller key: the same caller always lands in one arm."""
    digest = hashlib.sha256(f"{model_name}\0{caller}".encode()).digest()
    return int.from_bytes(digest[:8], "big") % 10_000 / 100


def route(*, model_ref: str, caller: str | None = None) -> Route:
    """Which version answers: ``name:vN`` pins one; otherwise the active version, or the rollout
    candidate for ``candidate_weight`` percent of calls (sticky per ``caller`` when given)."""
    name, sep, _number = model_ref.partition(":v")
    if sep:
        return Route(model_version_resolve(ref=model_ref), "pinned")
    rows = list(
        ModelVersion.objects.select_related("model")
        .filter(model__name=name)
        .filter(Q(is_active=True) | Q(pk=F("model__candidate_id")))
    )
    active = next((v for v in rows if v.is_active), None)
    if active is None:
        model_get(name=name)  # 404 for an unknown model
        raise NotFound(f"model {name!r} has no active version", field="model")
    model = active.model
    candidate = next((v for v in rows if v.pk == model.candidate_id and not v.is_active), None)
    _forget_others(model.pk, {(v.pk, v.sha256) for v in rows})
    if candidate is not None and model.candidate_weight > 0:
        draw = bucket(name, caller) if caller else random.random() * 100
        if draw < model.candidate_weight:
            candidate.model = model
            return Route(candidate, "candidate")
    return Route(active, "active")


def _check_size(records: list) -> None:
    if not records:
        raise DataError("at least one input is needed", field="inputs")
    if len(records) > settings.PREDICT_BATCH_MAX:
        raise DataError(
            f"{len(records)} inputs exceed the limit of {settings.PREDICT_BATCH_MAX} (PREDICT_BATCH_MAX)",
            field="inputs",
        )


def predict(*, model_ref: str, records: list[dict], caller: str | None = None) -> tuple[ModelVersion, list[dict]]:
    """Validate ``records``, predict, and queue one log row per prediction.

    Each result has ``prediction``, ``probabilities`` (classification), ``score`` where the
    pattern defines one, and ``prediction_id`` (the id of its log row).
    """
    _check_size(records)
    chosen = route(model_ref=model_ref, caller=caller)
    version = chosen.version
    predictor = predictor_for(version)
    results = predictor.predict_records(records)
    pattern = version.model.pattern
    logs = []
    for record, result in zip(records, results, strict=True):
        score = score_for(pattern, result.get("probabilities"))
        if score is not None:
            result["score"] = score
        log = PredictionLog(id=uuid.uuid4(), model_version_id=version.pk, inputs=record, output=dict(result))
        result["prediction_id"] = str(log.id)
        logs.append(log)
    log_writer.submit(logs)
    return version, results


def recommend(*, model_ref: str, task: dict, candidates: list[dict], caller: str | None = None) -> dict:
    """Rank candidate agents for ``task`` by predicted success (a coordination model's score).

    Each candidate's fields are merged over the task's; the merged record must match the model's
    feature schema. Returns the version and the candidates, best first, each with its index.
    """
    if not isinstance(task, dict):
        raise DataError("task must be an object of feature values", field="task")
    if not isinstance(candidates, list) or not candidates:
        raise DataError("candidates must be a non-empty list of objects", field="candidates")
    bad = [i for i, c in enumerate(candidates) if not isinstance(c, dict)]
    if bad:
        raise DataError(f"candidates[{bad[0]}] must be an object of feature values", field=f"candidates[{bad[0]}]")
    records = [{**task, **candidate} for candidate in candidates]
    version, results = predict(model_ref=model_ref, records=records, caller=caller)
    if "score" not in results[0]:
        raise DataError(
            f"model {version.model.name!r} ({version.model.pattern}) gives no success score to rank by; "
            "use a binary coordination model",
            field="model",
        )
    ranked = sorted(range(len(results)), key=lambda i: -results[i]["score"])
    return {
        "model": version.model.name,
        "version": version.label,
        "ranking": [
            {"rank": r + 1, "index": i, "candidate": candidates[i], **results[i]} for r, i in enumerate(ranked)
        ],
    }
