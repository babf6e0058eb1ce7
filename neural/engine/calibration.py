"""Confidence calibration: estimate a classifier's accuracy from its probabilities, without labels.

Histogram binning (Zadrozny & Elkan, 2001): on the validation split, sort predictions into
equal-mass bins of top-class probability and record how often each bin was right. For new
predictions, the expected accuracy is the mean of their bins' accuracies. The network's raw
confidence is often over- or under-confident; the bins correct that with what validation saw.
"""

from __future__ import annotations

import numpy as np
import pandas as pd
import torch

CALIBRATION_BINS = 10


def validation_confidences(network, preprocessor, encoder, frame: pd.DataFrame, target: str):
    """Top-class probability and correctness of ``network`` on ``frame`` (a labelled split).

    Returns:
        (confidence float64 array, correct bool array).
    """
    x_num, x_cat = preprocessor.transform(frame)
    network.eval()
    with torch.inference_mode():
        out = network(torch.from_numpy(x_num), torch.from_numpy(x_cat)).float()
    proba = torch.softmax(out, dim=1).numpy().astype(np.float64)
    truth = encoder.transform(frame[target])
    return proba.max(axis=1), proba.argmax(axis=1) == truth


def fit_calibration(confidence: np.ndarray, correct: np.ndarray, *, bins: int = CALIBRATION_BINS) -> dict:
    """Equal-mass bins of confidence with the accuracy observed in each.

    Each bin's accuracy is shrunk towards the overall accuracy by one pseudo-row, so a bin with
    few rows does not claim 0% or 100%.

    Returns:
        JSON-ready ``{"method", "edges", "accuracy", "counts", "rows", "validation_accuracy", "ece"}``.
    """
    confidence = np.asarray(confidence, dtype=np.float64)
    correct = np.asarray(correct, dtype=np.float64)
    if confidence.size == 0:
        return {"method": "histogram_binning", "edges": [], "accuracy": [], "counts": [], "rows": 0}
    overall = float(correct.mean())
    edges = np.unique(np.quantile(confidence, np.linspace(0, 1, bins + 1)[1:-1]))
    codes = np.searchsorted(edges, confidence, side="right")
    counts = np.bincount(codes, minlength=len(edges) + 1).astype(np.float64)
    hits = np.bincount(codes, weights=correct, minlength=len(edges) + 1)
    mean_conf = np.bincount(codes, weights=confidence, minlength=len(edges) + 1) / np.maximum(counts, 1)
    accuracy = (hits + overall) / (counts + 1)
    ece = float(np.sum(counts * np.abs(hits / np.maximum(counts, 1) - mean_conf)) / counts.sum())
    return {
        "method": "histogram_binning",
        "edges": edges.tolist(),
        "accuracy": accuracy.tolist(),
        "counts": counts.astype(int).tolist(),
        "rows": int(confidence.size),
        "validation_accuracy": overall,
        "ece": ece,
    }


def calibrated_accuracy(calibration: dict, confidence: np.ndarray) -> np.ndarray:
    """Per-prediction probability of being right, from the stored bins."""
    confidence = np.asarray(confidence, dtype=np.float64)
    if not calibration.get("accuracy"):
        return confidence  # no calibration: the raw confidence is the best estimate there is
    codes = np.searchsorted(np.asarray(calibration["edges"]), confidence, side="right")
    return np.asarray(calibration["accuracy"])[codes]


def estimate_accuracy(calibration: dict, confidence: np.ndarray) -> float | None:
    """Expected accuracy of predictions with these confidences (None when there are none)."""
    confidence = np.asarray(confidence, dtype=np.float64)
    if confidence.size == 0:
        return None
    return float(calibrated_accuracy(calibration, confidence).mean())
