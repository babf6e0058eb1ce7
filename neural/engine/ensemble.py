"""Ensembles of trained networks: how member outputs combine, how the combination is fitted,
and the predictor that serves one (``load_predictor`` builds it from a version folder whose
``model.json`` says ``"kind": "ensemble"``).

Three methods, each over the members' outputs (class probabilities, or regression values in the
target's units):

- ``voting``: the plain mean (soft voting: the mean of the probabilities).
- ``weighted``: a weighted mean with non-negative weights that sum to 1; given by hand, or
  fitted (``fit_weights``) on the validation rows by minimising the log-loss (classification) or
  the mean squared error (regression) with SciPy's SLSQP.
- ``stacking``: a small meta-model on the members' outputs: a multinomial logistic regression on
  the concatenated member probabilities (classification) or a ridge regression on the member
  predictions (regression). Its L2 strength is chosen by k-fold cross-fitting on the validation
  rows (the lowest out-of-fold log-loss over ``STACKING_CS``, or ``RidgeCV``), then it is
  refitted on all of them; the reported validation figures of a stacked ensemble are its
  out-of-fold predictions, so no validation row scores a meta-model that saw it. The
  coefficients are stored as tensors (``coef``, ``intercept``).

Test rows are never used for fitting. Nothing here imports the predictor module: a member is
any object with ``network``, ``preprocessor``, ``encoder`` and ``meta`` (``TabularPredictor``).
"""

from __future__ import annotations

import json
from collections.abc import Sequence
from pathlib import Path

import numpy as np
import pandas as pd
import torch
from scipy.optimize import minimize
from sklearn.linear_model import LogisticRegression, Ridge, RidgeCV
from sklearn.model_selection import KFold, StratifiedKFold, cross_val_predict

from neural.engine.artifacts import FORMAT_VERSION, MODEL_JSON, SUMS, WEIGHTS, sha256_file, write_bundle
from neural.engine.errors import ArtifactIntegrityError, DataError
from neural.engine.metrics import classification_metrics, regression_metrics

KIND = "ensemble"
METHODS = ("voting", "weighted", "stacking")
MIN_MEMBERS = 2
STACKING_FOLDS = 5
STACKING_CS = (0.01, 0.1, 1.0, 10.0, 100.0)  # inverse L2 strengths the cross-fitting chooses from
_EPS = 1e-7


# --- the combination ------------------------------------------------------------------------


def member_output(raw: torch.Tensor, encoder) -> np.ndarray:
    """One member's network output as (n, classes) probabilities or (n,) values in target units."""
    if encoder.task.is_classification:
        return torch.softmax(raw.float(), dim=1).numpy().astype(np.float64)
    return encoder.inverse_regression(raw.float().squeeze(-1).numpy().astype(np.float64))


def combine(method: str, outputs: np.ndarray, params: dict[str, np.ndarray]) -> np.ndarray:
    """The ensemble's output from the members' ``outputs``: (members, n, classes) probabilities
    or (members, n) regression values. ``params``: ``weights`` (members,) for voting and
    weighted; ``coef`` and ``intercept`` for stacking."""
    if method in ("voting", "weighted"):
        return np.tensordot(params["weights"], outputs, axes=1)
    if method != "stacking":
        raise ArtifactIntegrityError(f"unknown ensemble method {method!r}")
    features = stacking_features(outputs)
    scores = features @ params["coef"].T + params["intercept"]
    if outputs.ndim == 2:
        return scores.reshape(-1)
    scores = scores - scores.max(axis=1, keepdims=True)
    exp = np.exp(scores)
    return exp / exp.sum(axis=1, keepdims=True)


def stacking_features(outputs: np.ndarray) -> np.ndarray:
    """The meta-model's inputs per row: every member's probabilities side by side (member-major),
    or every member's prediction."""
    if outputs.ndim == 2:
        return outputs.T
    members, n, classes = outputs.shape
    return outputs.transpose(1, 0, 2).reshape(n, members * classes)


# --- fitting on validation rows -------------------------------------------------------------


def fit_weights(outputs: np.ndarray, y: np.ndarray) -> np.ndarray:
    """Non-negative weights summing to 1 that minimise the log-loss of the weighted mean of the
    probabilities (``y``: class indices) or the squared error of the weighted mean (``y``: values)."""
    members = outputs.shape[0]
    if outputs.ndim == 3:
        picked = outputs[:, np.arange(len(y)), y]  # each member's probability of the true class

        def loss(w: np.ndarray) -> float:
            return float(-np.log(np.clip(w @ picked, _EPS, None)).mean())
    else:

        def loss(w: np.ndarray) -> float:
            return float(np.mean((w @ outputs - y) ** 2))

    start = np.full(members, 1.0 / members)
    result = minimize(
        loss,
        start,
        method="SLSQP",
        bounds=[(0.0, 1.0)] * members,
        constraints=[{"type": "eq", "fun": lambda w: w.sum() - 1.0}],
    )
    weights = np.clip(result.x if result.success else start, 0.0, None)
    return weights / weights.sum()


def fit_stacking(outputs: np.ndarray, y: np.ndarray, *, n_classes: int, seed: int = 0):
    """Fit the meta-model on the validation rows' member ``outputs`` and labels ``y``.

    Returns:
        (params, out_of_fold): ``coef`` (classes or 1, inputs) and ``intercept`` arrays, and the
        meta-model's out-of-fold output for every row (what the validation figures report).

    Raises:
        DataError: too few validation rows (per class) for k-fold cross-fitting (field ``method``).
    """
    x = stacking_features(outputs)
    if outputs.ndim == 2:
        folds = min(STACKING_FOLDS, len(y))
        if folds < 2:
            raise DataError("stacking needs at least 2 validation rows", field="method")
        cv = KFold(folds, shuffle=True, random_state=seed)
        model = RidgeCV(alphas=np.logspace(-3, 3, 13), cv=cv).fit(x, y)
        oof = cross_val_predict(Ridge(alpha=model.alpha_), x, y, cv=cv)
        return {"coef": model.coef_.reshape(1, -1), "intercept": np.array([model.intercept_])}, oof
    present, counts = np.unique(y, return_counts=True)
    folds = min(STACKING_FOLDS, int(counts.min()))
    if len(present) < 2 or folds < 2:
        raise DataError(
            "stacking needs at least 2 validation rows of each of 2 or more classes for cross-fitting",
            field="method",
        )
    cv = StratifiedKFold(folds, shuffle=True, random_state=seed)
    best = None
    for c in STACKING_CS:  # the strength whose out-of-fold log-loss is lowest
        proba = cross_val_predict(LogisticRegression(C=c, max_iter=2000), x, y, cv=cv, method="predict_proba")
        loss = -np.log(np.clip(proba[np.arange(len(y)), np.searchsorted(present, y)], _EPS, None)).mean()
        if best is None or loss < best[0]:
            best = (loss, c, proba)
    _, strength, oof_present = best
    meta = LogisticRegression(C=strength, max_iter=2000).fit(x, y)
    coef = np.zeros((n_classes, x.shape[1]))
    intercept = np.full(n_classes, -30.0)  # a class absent from the validation rows is never chosen
    if len(present) == 2:  # scikit-learn's binary form: one score for the second class
        coef[present[1]], intercept[present[0]], intercept[present[1]] = meta.coef_[0], 0.0, meta.intercept_[0]
    else:
        coef[present], intercept[present] = meta.coef_, meta.intercept_
    oof = np.zeros((len(y), n_classes))
    oof[:, present] = oof_present
    return {"coef": coef, "intercept": intercept}, oof


def fit_combination(method: str, outputs: np.ndarray, y: np.ndarray, *, n_classes: int, weights=None):
    """Parameters of ``method`` and the ensemble's validation output (out-of-fold for stacking).

    ``weights``: for ``weighted``, ``"auto"`` (fitted) or one number per member (normalised to
    sum 1); ignored otherwise.
    """
    members = outputs.shape[0]
    if method == "stacking":
        return fit_stacking(outputs, y, n_classes=n_classes)
    if method == "voting":
        w = np.full(members, 1.0 / members)
    elif isinstance(weights, str):
        w = fit_weights(outputs, y)
    else:
        w = check_weights(weights, members)
    params = {"weights": w}
    return params, combine(method, outputs, params)


def check_weights(weights, members: int) -> np.ndarray:
    """Hand-given weights: one non-negative number per member, not all zero; normalised."""
    values = np.asarray(list(weights), dtype=np.float64)
    if len(values) != members:
        raise DataError(f"{len(values)} weights for {members} members; give one per member", field="weights")
    if not np.isfinite(values).all() or (values < 0).any() or values.sum() <= 0:
        raise DataError("weights must be non-negative numbers, not all zero", field="weights")
    return values / values.sum()


def output_metrics(output: np.ndarray, y: np.ndarray, classification: bool) -> dict[str, float]:
    """Metrics of an ensemble (or member) output on labelled rows (class indices or values)."""
    if classification:
        metrics = classification_metrics(y, output)
        metrics["log_loss"] = float(-np.log(np.clip(output[np.arange(len(y)), y], _EPS, None)).mean())
        return metrics
    return regression_metrics(y, output)


# --- the predictor --------------------------------------------------------------------------


class EnsemblePredictor:
    """Predicts like ``TabularPredictor`` (``predict_frame``, ``predict_records``,
    ``feature_names``, ``encoder``): every member's network on one preprocessed batch (one
    transform per distinct fitted preprocessing, shared by the members that have it), their
    outputs stacked, then combined."""

    def __init__(self, members: Sequence, method: str, params: dict[str, np.ndarray], meta: dict) -> None:
        self.members = list(members)
        self.method = method
        self.params = params
        self.meta = meta
        for member in self.members:
            member.network.eval()
        # Members whose fitted preprocessing is the same share one transform per batch.
        groups: dict[str, list[int]] = {}
        for i, member in enumerate(self.members):
            key = json.dumps(member.preprocessor.to_dict(), sort_keys=True, default=str)
            groups.setdefault(key, []).append(i)
        self.groups = list(groups.values())

    @property
    def encoder(self):
        return self.members[0].encoder

    @property
    def preprocessor(self):
        """The first member's (every member reads the same input columns)."""
        return self.members[0].preprocessor

    @property
    def feature_names(self) -> list[str]:
        return self.members[0].feature_names

    def outputs_from_inputs(self, inputs: Sequence[tuple[np.ndarray, np.ndarray]]) -> np.ndarray:
        """Every member's output, stacked: ``inputs`` holds (x_num, x_cat) per group."""
        outputs: list[np.ndarray | None] = [None] * len(self.members)
        with torch.inference_mode():
            for group, (x_num, x_cat) in zip(self.groups, inputs, strict=True):
                tensors = torch.from_numpy(np.ascontiguousarray(x_num)), torch.from_numpy(x_cat)
                for i in group:
                    member = self.members[i]
                    outputs[i] = member_output(member.network(*tensors), member.encoder)
        return np.stack(outputs)

    def member_outputs(self, df: pd.DataFrame) -> np.ndarray:
        inputs = [self.members[group[0]].preprocessor.transform(df) for group in self.groups]
        return self.outputs_from_inputs(inputs)

    def predict_array(self, df: pd.DataFrame) -> np.ndarray:
        """Probabilities (n, classes) or values (n,), in target units."""
        return combine(self.method, self.member_outputs(df), self.params)

    def predict_frame(self, df: pd.DataFrame) -> list[dict]:
        return format_results(self.predict_array(df), self.encoder)

    def predict_records(self, records: list[dict]) -> list[dict]:
        """Validate then predict. Raises InputValidationError listing every bad field."""
        self.preprocessor.validate_records(records)
        return self.predict_frame(pd.DataFrame.from_records(records, columns=self.feature_names))


def format_results(output: np.ndarray, encoder) -> list[dict]:
    """The predictor's result dicts from probabilities or values."""
    if not encoder.task.is_classification:
        return [{"prediction": float(v)} for v in output]
    labels = encoder.classes_
    keys = [str(label) for label in labels]
    return [
        {"prediction": labels[b], "probabilities": dict(zip(keys, np.round(p, 6).tolist(), strict=True))}
        for b, p in zip(output.argmax(axis=1), output, strict=True)
    ]


# --- files ------------------------------------------------------------------------------------


def check_members(members: Sequence, names: Sequence[str]) -> None:
    """Members an ensemble can combine: at least two, each a single network, the same task, the
    same classes in the same order, and the same input columns.

    Raises:
        DataError: naming ``models`` and the member at fault.
    """
    if len(members) < MIN_MEMBERS:
        raise DataError(f"an ensemble needs at least {MIN_MEMBERS} members, got {len(members)}", field="models")
    first, first_name = members[0], names[0]
    for member, name in zip(members, names, strict=True):
        if isinstance(member, EnsemblePredictor):
            raise DataError(f"{name} is an ensemble; members must be single networks", field="models")
    for member, name in zip(members[1:], names[1:], strict=True):
        if str(member.encoder.task) != str(first.encoder.task):
            raise DataError(
                f"{name} does {member.encoder.task}, {first_name} does {first.encoder.task}; "
                "members must share the task",
                field="models",
            )
        if list(map(str, member.encoder.classes_)) != list(map(str, first.encoder.classes_)):
            raise DataError(f"{name} predicts other classes than {first_name}", field="models")
        if sorted(member.feature_names) != sorted(first.feature_names):
            extra = sorted(set(member.feature_names) ^ set(first.feature_names))
            raise DataError(
                f"{name} and {first_name} read different input columns ({', '.join(extra[:5])})", field="models"
            )


def member_entry(directory: Path, *, model: str, version: int, path: str) -> dict:
    """How ``model.json`` pins a member: its name, number, folder (relative to the store) and the
    SHA-256 of its SHA256SUMS (which covers each of its files, also listed here)."""
    files = {}
    for line in (directory / SUMS).read_text().splitlines():
        digest, _, name = line.partition("  ")
        files[name] = digest
    return {"model": model, "version": version, "path": path, "sha256": sha256_file(directory / SUMS), "files": files}


def save_ensemble(directory: Path, meta: dict, params: dict[str, np.ndarray]) -> str:
    """Write the ensemble's folder: ``model.json`` (kind, method, members, figures) and its
    combination parameters as tensors in ``weights.safetensors``. Returns the bundle's SHA-256."""
    tensors = {name: torch.from_numpy(np.asarray(value, dtype=np.float64)) for name, value in params.items()}
    document = {**meta, "kind": KIND, "format_version": FORMAT_VERSION}
    return write_bundle(directory, {WEIGHTS: tensors}, {MODEL_JSON: document})


def build_predictor(members: Sequence, member_dirs: Sequence[Path], state: dict, meta: dict) -> EnsemblePredictor:
    """The predictor of a verified ensemble folder's ``state`` and ``meta``, once each member
    folder is checked against the checksum ``model.json`` pinned for it."""
    entries = meta.get("members")
    method = meta.get("method")
    if method not in METHODS or not isinstance(entries, list) or len(entries) != len(members):
        raise ArtifactIntegrityError("the ensemble's model.json names no known method or a different member count")
    for entry, directory in zip(entries, member_dirs, strict=True):
        if sha256_file(directory / SUMS) != entry.get("sha256"):
            raise ArtifactIntegrityError(
                f"{directory}: member {entry.get('model')}:v{entry.get('version')} differs from the one "
                "the ensemble pinned"
            )
    params = {name: tensor.numpy().astype(np.float64) for name, tensor in state.items()}
    needed = ("coef", "intercept") if method == "stacking" else ("weights",)
    if any(name not in params for name in needed):
        raise ArtifactIntegrityError(f"the ensemble's weights lack {', '.join(needed)}")
    return EnsemblePredictor(members, method, params, meta)
