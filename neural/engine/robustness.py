"""How much of a model's held-out score survives perturbed inputs.

Seeded perturbations of the raw rows, each at a few strengths:

- ``gaussian_noise``: numeric columns get N(0, (s * spread)^2) added, where spread is the column's
  scale fitted on the training rows (the preprocessor's inter-quartile range);
- ``missing_values``: each feature cell is blanked with probability s;
- ``unseen_categories``: each categorical cell becomes a value never seen in training with probability s;
- ``flipped_categories``: each categorical cell becomes another known category with probability s;

and two gradient attacks on the network's numeric inputs (numeric columns only, in the scaled space,
so an epsilon of 0.1 is 0.1 of each feature's spread: an inter-quartile range under robust scaling,
about a standard deviation under the default quantile-to-normal scaling): ``fgsm`` (one signed-gradient step)
and ``pgd`` (projected gradient descent, a seeded random start and ``PGD_STEPS`` steps).

The score per cell is accuracy (classifiers) or R² (regressions), from the one scorer
(``engine/scoring.py``: ``score_frame`` on the clean and perturbed rows, ``score_predictions`` on
the attacked network's outputs). The robustness score is the mean over every cell of the share of
the clean score kept (clipped to [0, 1]; 1.0 = unaffected).
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np
import pandas as pd
import torch
import torch.nn.functional as F

from neural.engine.errors import DataError
from neural.engine.predictor import TabularPredictor
from neural.engine.schema import ColumnKind
from neural.engine.scoring import primary_metric, score_frame, score_predictions

STRENGTHS = {
    "gaussian_noise": (0.1, 0.5, 1.0),
    "missing_values": (0.1, 0.3, 0.5),
    "unseen_categories": (0.1, 0.3, 0.5),
    "flipped_categories": (0.1, 0.3, 0.5),
    "fgsm": (0.05, 0.1, 0.25),
    "pgd": (0.05, 0.1, 0.25),
}
PGD_STEPS = 10
MAX_ROWS = 2000
UNSEEN = "__unseen__"


@dataclass
class _Rows:
    frame: pd.DataFrame  # feature columns only
    truth: pd.Series  # the target: labels the model knows, or numbers for a regression
    target: str  # its column name


def _truth(predictor: TabularPredictor, truth: pd.Series) -> tuple[np.ndarray, pd.Series, np.ndarray]:
    """(rows whose label the model knows, their targets, the targets encoded)."""
    encoder = predictor.encoder
    if not encoder.task.is_classification:
        values = pd.to_numeric(truth, errors="coerce").to_numpy(dtype="float64")
        known = np.isfinite(values)
        return known, pd.Series(values[known]), ((values[known] - encoder.mean_) / encoder.std_).astype(np.float32)
    index = {str(label): i for i, label in enumerate(encoder.classes_)}
    mapped = truth.astype(str).map(index)
    known = mapped.notna().to_numpy()
    return known, truth[known].reset_index(drop=True), mapped[known].to_numpy(dtype=np.int64)


def _score(predictor: TabularPredictor, frame: pd.DataFrame, rows: _Rows) -> float:
    """``score_frame``'s metric of ``predictor`` on (perturbed) feature rows with ``rows``' targets."""
    labelled = frame.assign(**{rows.target: rows.truth.to_numpy()})
    return score_frame(predictor, labelled, rows.target)[primary_metric(predictor)]


def _columns(predictor: TabularPredictor, kind: ColumnKind) -> list[str]:
    return [c.name for c in predictor.preprocessor.features if c.kind is kind]


def _noise(predictor, frame: pd.DataFrame, s: float, rng: np.random.Generator) -> pd.DataFrame:
    out = frame.copy()
    scales = {n["name"]: n["scale"] for n in predictor.preprocessor.numeric_}
    for name in _columns(predictor, ColumnKind.NUMERIC):
        values = pd.to_numeric(out[name], errors="coerce").to_numpy(dtype="float64")
        out[name] = values + rng.normal(0.0, s * scales.get(name, 1.0), len(values))
    return out


def _missing(predictor, frame: pd.DataFrame, s: float, rng: np.random.Generator) -> pd.DataFrame:
    out = frame.astype(object)
    mask = rng.random(out.shape) < s
    return out.mask(mask, None)


def _unseen(predictor, frame: pd.DataFrame, s: float, rng: np.random.Generator) -> pd.DataFrame:
    out = frame.copy()
    for name in _columns(predictor, ColumnKind.CATEGORICAL):
        hit = rng.random(len(out)) < s
        out[name] = out[name].astype(object).where(~hit, [f"{UNSEEN}{i}" for i in range(len(out))])
    return out


def _flipped(predictor, frame: pd.DataFrame, s: float, rng: np.random.Generator) -> pd.DataFrame:
    out = frame.copy()
    vocab = {c["name"]: c["vocab"] for c in predictor.preprocessor.categorical_}
    for name in _columns(predictor, ColumnKind.CATEGORICAL):
        known = vocab.get(name, [])
        if len(known) < 2:
            continue
        current = out[name].astype(str).to_numpy()
        draws = rng.integers(0, len(known) - 1, len(out))
        # The k-th known value other than the current one: skip over the current value's slot.
        position = np.array([known.index(v) if v in known else len(known) for v in current])
        other = np.where(draws >= position, draws + 1, draws).clip(max=len(known) - 1)
        hit = rng.random(len(out)) < s
        out[name] = np.where(hit, np.array(known, dtype=object)[other], out[name].astype(object).to_numpy())
    return out


RAW_PERTURBATIONS = {
    "gaussian_noise": (_noise, ColumnKind.NUMERIC),
    "missing_values": (_missing, None),
    "unseen_categories": (_unseen, ColumnKind.CATEGORICAL),
    "flipped_categories": (_flipped, ColumnKind.CATEGORICAL),
}


def numeric_positions(predictor: TabularPredictor) -> np.ndarray:
    """Indices in the numeric input block that hold a scaled numeric column (not a missing
    indicator, a datetime part, a boolean, text buckets or tags)."""
    kinds = {c.name: c.kind for c in predictor.preprocessor.features}
    positions, at = [], 0
    for num in predictor.preprocessor.numeric_:
        if kinds.get(num["column"]) is ColumnKind.NUMERIC and num["name"] == num["column"]:
            positions.append(at)
        at += 1 + int(num["indicator"])
    return np.array(positions, dtype=np.int64)


def _loss(predictor: TabularPredictor, out: torch.Tensor, y: torch.Tensor) -> torch.Tensor:
    if predictor.encoder.task.is_classification:
        return F.cross_entropy(out, y)
    return F.mse_loss(out.squeeze(-1), y)


def gradient_attack(
    predictor: TabularPredictor, frame: pd.DataFrame, truth, *, epsilon: float, steps: int, seed: int
) -> float:
    """Score under an L-infinity attack of radius ``epsilon`` (scaled units) on the numeric
    columns: ``steps`` == 1 is FGSM, more is PGD from a random start in the ball. ``truth``: the
    target of each row of ``frame`` (labels the model knows, or numbers)."""
    known, truth, y = _truth(predictor, pd.Series(np.asarray(truth)))
    if not known.all():
        raise DataError("every attacked row needs a target the model knows", field="data")
    positions = numeric_positions(predictor)
    x_num, x_cat = predictor.preprocessor.transform(frame)
    base = torch.from_numpy(x_num)
    cats = torch.from_numpy(x_cat)
    target = torch.from_numpy(np.array(y))  # a copy: y may be a read-only view
    mask = torch.zeros(base.shape[1])
    mask[torch.from_numpy(positions)] = 1.0
    generator = torch.Generator().manual_seed(seed)
    delta = torch.zeros_like(base)
    if steps > 1:
        delta = (torch.rand(base.shape, generator=generator) * 2 - 1) * epsilon * mask
    step = epsilon if steps == 1 else 2.5 * epsilon / steps
    network = predictor.network.eval()
    for _ in range(steps):
        delta.requires_grad_(True)
        with torch.enable_grad():
            loss = _loss(predictor, network(base + delta, cats).float(), target)
            (grad,) = torch.autograd.grad(loss, delta)
        delta = (delta.detach() + step * grad.sign() * mask).clamp(-epsilon, epsilon)
    with torch.inference_mode():
        out = network(base + delta, cats).float()
    if predictor.encoder.task.is_classification:
        predicted = torch.softmax(out, dim=1).numpy().astype(np.float64)
    else:
        predicted = predictor.encoder.inverse_regression(out.squeeze(-1).numpy())
    return score_predictions(predictor, truth, predicted)[primary_metric(predictor)]


def _rows(predictor: TabularPredictor, df: pd.DataFrame, target: str, seed: int, max_rows: int) -> _Rows:
    missing = [c for c in [*predictor.feature_names, target] if c not in df.columns]
    if missing:
        raise DataError(f"the rows lack the model's column(s) {', '.join(missing)}", field="data")
    known, truth, _ = _truth(predictor, df[target])
    frame = df.loc[known, predictor.feature_names].reset_index(drop=True)
    if len(frame) < 2:
        raise DataError("fewer than 2 rows with a target the model knows", field="data")
    if len(frame) > max_rows:
        keep = np.sort(np.random.default_rng(seed).choice(len(frame), max_rows, replace=False))
        frame, truth = frame.iloc[keep].reset_index(drop=True), truth.iloc[keep].reset_index(drop=True)
    return _Rows(frame, truth, target)


def robustness_report(
    predictor: TabularPredictor, df: pd.DataFrame, target: str, *, seed: int = 0, max_rows: int = MAX_ROWS
) -> dict:
    """Score ``predictor`` on ``df`` clean and under every applicable perturbation and strength.

    Args:
        predictor: a loaded model version.
        df: held-out rows with the model's feature columns and ``target``.
        target: the truth column.
        seed: every random draw comes from it, so the report can be reproduced.
        max_rows: a seeded sample of at most this many rows is used.

    Returns:
        ``{metric, rows, seed, clean, score, results: [{perturbation, strength, score, kept}], skipped}``.
    """
    rows = _rows(predictor, df, target, seed, max_rows)
    clean = _score(predictor, rows.frame, rows)
    results, skipped = [], {}
    for i, (name, (perturb, needs)) in enumerate(RAW_PERTURBATIONS.items()):
        if needs is not None and not _columns(predictor, needs):
            skipped[name] = f"no {needs} feature columns"
            continue
        for strength in STRENGTHS[name]:
            rng = np.random.default_rng([seed, i, int(strength * 1000)])
            results.append((name, strength, _score(predictor, perturb(predictor, rows.frame, strength, rng), rows)))
    if len(numeric_positions(predictor)):
        for name, steps in (("fgsm", 1), ("pgd", PGD_STEPS)):
            for strength in STRENGTHS[name]:
                score = gradient_attack(predictor, rows.frame, rows.truth, epsilon=strength, steps=steps, seed=seed)
                results.append((name, strength, score))
    else:
        skipped["fgsm"] = skipped["pgd"] = "no numeric feature columns"
    cells = [{"perturbation": n, "strength": s, "score": v, "kept": _kept(v, clean)} for n, s, v in results]
    return {
        "metric": primary_metric(predictor),
        "rows": len(rows.frame),
        "seed": seed,
        "clean": clean,
        "score": float(np.mean([c["kept"] for c in cells])) if cells else None,
        "results": cells,
        "skipped": skipped,
    }


def _kept(score: float, clean: float) -> float:
    return float(np.clip(score / clean, 0.0, 1.0)) if clean > 0 else 0.0
