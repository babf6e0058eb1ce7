"""Data drift: a compact reference profile per feature, and PSI / Jensen–Shannon against it.

A profile is built once, on the training split, and stored as JSON: quantile bin edges and the
share of rows per bin for numerics (plus a "missing" bin), the most frequent values and their
shares for categoricals (plus "other" and "missing"). Comparing a window of new rows bins every
column with numpy (``searchsorted`` + ``bincount``, ``pd.Categorical`` codes): the cost is a few
passes over each column, never a Python loop over rows.

Thresholds are sample-size aware. For a window of ``n`` rows against a reference of ``N`` rows
over ``k`` bins, when both come from one distribution, ``sum((p - q)^2 / q)`` is about
``(1/n + 1/N) * chi2(k - 1)``; PSI is that to first order and Jensen–Shannon (in nats) is an
eighth of it. A feature drifts when its value exceeds the larger of a practical floor (PSI 0.1,
the usual "moderate shift" line) and the chi-square critical value at the significance level,
Bonferroni-corrected over the features and both methods. So a small window of unchanged data
has to move a lot before anything fires, while a large window fires only on a real shift.
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np
import pandas as pd
from scipy.stats import chi2

from neural.engine.schema import ColumnKind, ColumnSpec

PROFILE_VERSION = 1
NUMERIC_BINS = 10
MAX_CATEGORIES = 30
PSI_FLOOR = 0.1
JS_FLOOR = PSI_FLOOR / 8
_PSEUDO = 0.5
_TRUE = {"true", "1", "yes", "y", "t", "1.0"}
_FALSE = {"false", "0", "no", "n", "f", "0.0"}


def _numeric_values(col: pd.Series, kind: str) -> np.ndarray:
    if kind == ColumnKind.BOOLEAN:
        if pd.api.types.is_bool_dtype(col) or pd.api.types.is_numeric_dtype(col):
            return col.astype("float64").to_numpy()
        lowered = col.astype("string").str.strip().str.lower()
        out = np.full(len(col), np.nan)
        out[lowered.isin(_TRUE).to_numpy(dtype=bool, na_value=False)] = 1.0
        out[lowered.isin(_FALSE).to_numpy(dtype=bool, na_value=False)] = 0.0
        return out
    return pd.to_numeric(col, errors="coerce").astype("float64").to_numpy()


def _numeric_codes(values: np.ndarray, edges: np.ndarray) -> np.ndarray:
    """Bin index per value: 0..len(edges) by the inner edges, len(edges)+1 for missing."""
    codes = np.searchsorted(edges, values, side="right")
    codes[~np.isfinite(values)] = len(edges) + 1
    return codes


def _categorical_codes(col: pd.Series, categories: list[str]) -> np.ndarray:
    """Index per value: 0..C-1 for known categories, C for other, C+1 for missing."""
    # Factorize once (a hash pass), then map the few distinct values to the profile's indices.
    raw, uniques = pd.factorize(col, use_na_sentinel=True)
    index = {value: i for i, value in enumerate(categories)}
    lookup = np.array([index.get(str(u), len(categories)) for u in uniques] + [len(categories) + 1], dtype=np.int64)
    return lookup[raw]  # the NA sentinel -1 picks the last entry: missing


def _drift_kind(spec: ColumnSpec) -> str | None:
    if spec.excluded:
        return None
    if spec.kind in (ColumnKind.NUMERIC, ColumnKind.BOOLEAN):
        return "numeric"
    if spec.kind is ColumnKind.CATEGORICAL:
        return "categorical"
    return None  # datetimes move with time by nature; text and tags have no compact profile here


def build_profile(df: pd.DataFrame, columns: list[ColumnSpec], *, bins: int = NUMERIC_BINS) -> dict:
    """The reference profile of ``df`` (the training split) for every numeric, boolean and
    categorical feature in ``columns``.

    Returns:
        JSON-ready ``{"version", "rows", "features": [{"name", "kind", ..., "shares"}]}``.
    """
    features = []
    for spec in columns:
        kind = _drift_kind(spec)
        if kind is None or spec.name not in df.columns:
            continue
        col = df[spec.name]
        if kind == "numeric":
            values = _numeric_values(col, spec.kind)
            finite = values[np.isfinite(values)]
            qs = np.quantile(finite, np.linspace(0, 1, bins + 1)[1:-1]) if finite.size else np.array([])
            edges = np.unique(qs)
            counts = np.bincount(_numeric_codes(values, edges), minlength=len(edges) + 2)
            entry = {"name": spec.name, "kind": "numeric", "column_kind": str(spec.kind), "edges": edges.tolist()}
        else:
            top = col.dropna().astype(str).value_counts().index[:MAX_CATEGORIES].tolist()
            counts = np.bincount(_categorical_codes(col, top), minlength=len(top) + 2)
            entry = {"name": spec.name, "kind": "categorical", "column_kind": str(spec.kind), "categories": top}
        entry["shares"] = (counts / max(len(col), 1)).tolist()
        features.append(entry)
    return {"version": PROFILE_VERSION, "rows": len(df), "features": features}


@dataclass(frozen=True)
class FeatureDrift:
    name: str
    psi: float
    psi_threshold: float
    js: float
    js_threshold: float
    rows: int

    @property
    def drifted(self) -> bool:
        return self.psi > self.psi_threshold or self.js > self.js_threshold

    def entries(self) -> list[dict]:
        """One entry per method, as ``neural drift-detection --json`` prints them."""
        return [
            {
                "name": self.name,
                "method": "psi",
                "value": round(self.psi, 6),
                "threshold": round(self.psi_threshold, 6),
                "drifted": self.psi > self.psi_threshold,
            },
            {
                "name": self.name,
                "method": "jensen_shannon",
                "value": round(self.js, 6),
                "threshold": round(self.js_threshold, 6),
                "drifted": self.js > self.js_threshold,
            },
        ]


def _divergences(counts: np.ndarray, ref_shares: np.ndarray, ref_rows: int) -> tuple[float, float, int]:
    n = counts.sum()
    k = len(counts)
    p = (counts + _PSEUDO) / (n + _PSEUDO * k)
    q = (ref_shares * ref_rows + _PSEUDO) / (ref_rows + _PSEUDO * k)
    psi = float(np.sum((p - q) * np.log(p / q)))
    p_raw = counts / n
    m = (p_raw + ref_shares) / 2
    with np.errstate(divide="ignore", invalid="ignore"):
        js = 0.5 * np.where(p_raw > 0, p_raw * np.log(p_raw / m), 0.0).sum()
        js += 0.5 * np.where(ref_shares > 0, ref_shares * np.log(ref_shares / m), 0.0).sum()
    occupied = int(np.count_nonzero((counts > 0) | (ref_shares > 0)))
    return psi, float(max(js, 0.0)), occupied


def critical_values(*, rows: int, ref_rows: int, bins: int, alpha: float) -> tuple[float, float]:
    """(PSI threshold, Jensen–Shannon threshold) for a window of ``rows`` at level ``alpha``."""
    scale = chi2.ppf(1 - alpha, max(bins - 1, 1)) * (1 / max(rows, 1) + 1 / max(ref_rows, 1))
    return max(PSI_FLOOR, float(scale)), max(JS_FLOOR, float(scale) / 8)


def compare(profile: dict, df: pd.DataFrame, *, alpha: float = 0.05) -> list[FeatureDrift]:
    """Compare the rows of ``df`` with ``profile``, one :class:`FeatureDrift` per profiled feature.

    Args:
        profile: from :func:`build_profile`.
        df: the window's rows; a profiled column that is absent counts as all missing.
        alpha: the chance that an unchanged window is called drifted (the whole model's verdict).

    Returns:
        Per-feature PSI and Jensen–Shannon divergence (nats) with their thresholds.
    """
    rows = len(df)
    features = profile["features"]
    per_test_alpha = alpha / max(2 * len(features), 1)
    out = []
    for feature in features:
        col = df[feature["name"]] if feature["name"] in df.columns else pd.Series([None] * rows, dtype=object)
        shares = np.asarray(feature["shares"], dtype=np.float64)
        if feature["kind"] == "numeric":
            edges = np.asarray(feature["edges"], dtype=np.float64)
            codes = _numeric_codes(_numeric_values(col, feature.get("column_kind", "numeric")), edges)
        else:
            codes = _categorical_codes(col, feature["categories"])
        counts = np.bincount(codes, minlength=len(shares)).astype(np.float64)
        psi, js, occupied = _divergences(counts, shares, profile["rows"]) if rows else (0.0, 0.0, len(shares))
        psi_t, js_t = critical_values(rows=rows, ref_rows=profile["rows"], bins=occupied, alpha=per_test_alpha)
        out.append(FeatureDrift(feature["name"], psi, psi_t, js, js_t, rows))
    return out


def drift_score(results: list[FeatureDrift]) -> float:
    """The share of profiled features that drifted (0 when nothing is profiled)."""
    return sum(r.drifted for r in results) / len(results) if results else 0.0
