"""Predictions with the active version (or a named one, or a rollout's candidate), from a
per-process cache of loaded models, logged off the request path.

Which version answers is read from the database in one query and remembered per process for at
most ``ROUTE_TTL_S`` (1 s): an activation, rollout or deletion made in this process applies to the
next request (signals on the registry's rows forget the routes, again when the change commits);
one made by another process applies within ``ROUTE_TTL_S``.
The receivers are connected in ``ServingConfig.ready``. The loaded-model cache is keyed by
the version's id and artifact checksum and forgets versions of a model that no longer answer.
"""

from __future__ import annotations

import gc
import hashlib
import random
import threading
import time
from dataclasses import dataclass

from django.conf import settings
from django.db import connection, transaction
from django.db.models import F, Q

from neural.engine.fastpath import FastEnsemble, FastPredictor, fast_predictor
from neural.errors import DataError, NotFound
from neural.registry.models import ModelVersion, RegisteredModel
from neural.registry.selectors import model_get, model_version_resolve
from neural.registry.storage import version_load
from neural.serving.logwriter import LogBatch, log_writer, new_ids
from neural.serving.models import PredictionLog
from neural.serving.scores import score_column
from neural.serving.signals import prediction_logs_deleting

_cache: dict[tuple[int, str], FastPredictor | FastEnsemble] = {}
_by_model: dict[int, set[tuple[int, str]]] = {}
_lock = threading.Lock()
CACHE_SIZE = 32
ROUTE_TTL_S = 1.0  # how long another process's activation may take to apply here


def predictor_for(version: ModelVersion) -> FastPredictor | FastEnsemble:
    key = (version.pk, version.sha256)
    predictor = _cache.get(key)
    if predictor is None:
        with _lock:
            predictor = _cache.get(key)
            if predictor is None:
                predictor = fast_predictor(version_load(version=version))
                if len(_cache) >= CACHE_SIZE:
                    _cache.clear()
                    _by_model.clear()
                _cache[key] = predictor
                _by_model.setdefault(version.model_id, set()).add(key)
                # What is alive now (Django, torch, the networks) lives as long as the process:
                # frozen out of the collector's generations, a full collection (which a 10,000-row
                # body sets off) no longer rescans it (~10 ms instead of ~400 ms here). Collect
                # first, so that only live objects are frozen and no garbage is kept for good.
                gc.collect()
                gc.freeze()
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


@dataclass(frozen=True)
class _Routes:
    """What the database said answers ``ref``: read-only, shared by every request thread."""

    expires: float
    version: ModelVersion  # the active (or pinned) version, its ``model`` loaded
    candidate: ModelVersion | None = None


_routes: dict[str, _Routes] = {}
_generation = 0


def forget_routes(**_signal_kwargs) -> None:
    """Make the next request ask the database which version answers (registry rows changed)."""
    global _generation
    _generation += 1
    _routes.clear()


def registry_changed(**kwargs) -> None:
    """Receiver (``ServingConfig.ready``): a version, model or activation row was saved or deleted."""
    forget_routes()
    # Again once the change commits: a request that read the old rows meanwhile cached them.
    transaction.on_commit(forget_routes, using=kwargs.get("using"))


def _read_routes(model_ref: str) -> _Routes:
    """The pinned version (``name:vN``, as ``model_version_resolve`` reads it), or the active
    version and any rollout candidate in one indexed query."""
    name, sep, _number = model_ref.partition(":v")
    expires = time.monotonic() + ROUTE_TTL_S
    if sep:
        return _Routes(expires, model_version_resolve(ref=model_ref))
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
    if candidate is not None:
        candidate.model = model
    _forget_others(model.pk, {(v.pk, v.sha256) for v in rows})
    return _Routes(expires, active, candidate if model.candidate_weight > 0 else None)


def _routes_for(model_ref: str) -> _Routes:
    known = _routes.get(model_ref)
    if known is not None and known.expires > time.monotonic():
        return known
    generation = _generation
    known = _read_routes(model_ref)
    if generation == _generation:  # nothing changed while we read: safe to remember
        if len(_routes) >= 1024:
            _routes.clear()
        _routes[model_ref] = known
    return known


def route(*, model_ref: str, caller: str | None = None) -> Route:
    """Which version answers: ``name:vN`` pins one; otherwise the active version, or the rollout
    candidate for ``candidate_weight`` percent of calls (sticky per ``caller`` when given)."""
    known = _routes_for(model_ref)
    if model_ref.partition(":v")[1]:
        return Route(known.version, "pinned")
    candidate = known.candidate
    if candidate is not None:
        draw = bucket(known.version.model.name, caller) if caller else random.random() * 100
        if draw < known.version.model.candidate_weight:
            return Route(candidate, "candidate")
    return Route(known.version, "active")


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
    started = time.perf_counter()
    _check_size(records)
    version = route(model_ref=model_ref, caller=caller).version
    predictor = predictor_for(version)
    values, probabilities = predictor.predict_columns(records)
    ids = new_ids(len(records))
    if probabilities is None:
        results = [{"prediction": v} for v in values]
    else:
        keys = predictor.keys
        scores = score_column(version.model.pattern, keys, probabilities)
        if scores is None:
            results = [
                {"prediction": v, "probabilities": dict(zip(keys, p, strict=True))}
                for v, p in zip(values, probabilities, strict=True)
            ]
        else:
            results = [
                {"prediction": v, "probabilities": dict(zip(keys, p, strict=True)), "score": s}
                for v, p, s in zip(values, probabilities, scores, strict=True)
            ]
    # The writer stores each result without its id (the row's own key) and must not see ids added.
    latency_ms = (time.perf_counter() - started) * 1000
    log_writer.submit(
        LogBatch(
            version_id=version.pk,
            ids=ids,
            inputs=records,
            outputs=[dict(r) for r in results],
            latency_ms=latency_ms,
        )
    )
    for result, prediction_id in zip(results, ids, strict=True):
        result["prediction_id"] = prediction_id
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


def model_prediction_logs_delete(*, model: RegisteredModel, **_signal_kwargs) -> None:
    """Delete the prediction log of every version of ``model`` in one statement (receiver of
    ``registry.signals.model_deleting``, inside the deleting transaction).

    Django's cascade would first load every log row's key as an object (the feedback on it
    cascades, so the log cannot be fast-deleted): millions of logged predictions would not fit in
    memory. What depends on the rows (monitoring's feedback) goes first, through
    ``prediction_logs_deleting``; what remains for the cascade is an empty query.
    """
    versions = model.versions.values("pk")
    prediction_logs_deleting.send(sender=PredictionLog, versions=versions)
    log, version = PredictionLog._meta, ModelVersion._meta
    qn = connection.ops.quote_name
    with connection.cursor() as cursor:
        cursor.execute(
            f"DELETE FROM {qn(log.db_table)} WHERE {qn(log.get_field('model_version').column)} IN "
            f"(SELECT {qn(version.pk.column)} FROM {qn(version.db_table)} "
            f"WHERE {qn(version.get_field('model').column)} = %s)",
            [model.pk],
        )
