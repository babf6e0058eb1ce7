"""The quality report of a data set: what is missing, odd, duplicated, leaking or sensitive.

Every figure is computed from the frame. PII and secrets are reported by column, kind and count:
the values themselves never appear in the report. Large frames are judged on a fixed random
sample of rows for the expensive checks (leakage, PII, outliers), and the report says so.
"""

from __future__ import annotations

import math
import re

import numpy as np
import pandas as pd

SAMPLE_ROWS = 50_000
TOP_VALUES = 10
HISTOGRAM_BINS = 20
ROBUST_Z = 3.5  # Iglewicz & Hoaglin: |modified z| > 3.5 is an outlier
LEAKAGE_SCORE = 0.98
MIN_ENTROPY_BITS = 3.5
REDACTED = "[redacted]"

PII_PATTERNS = {
    "email": re.compile(r"[A-Za-z0-9._%+-]+@[A-Za-z0-9.-]+\.[A-Za-z]{2,}"),
    "ip_address": re.compile(r"\b(?:(?:25[0-5]|2[0-4]\d|1?\d?\d)\.){3}(?:25[0-5]|2[0-4]\d|1?\d?\d)\b"),
    "phone": re.compile(
        r"(?<![\w.])(?<!\d[ -])\+?\d{1,3}[ .-]?\(?\d{2,4}\)?[ .-]\d{3,4}[ .-]\d{3,4}(?![\w.])(?![ -]\d)"
    ),
    "private_key": re.compile(r"-----BEGIN (?:[A-Z]+ )?PRIVATE KEY-----"),
    "api_key": re.compile(
        r"\b(?:AKIA[0-9A-Z]{16}|gh[pousr]_[A-Za-z0-9]{30,}|sk-[A-Za-z0-9_-]{20,}|xox[abpr]-[A-Za-z0-9-]{10,}"
        r"|AIza[0-9A-Za-z_-]{35})\b"
    ),
}
CARD = re.compile(r"\b(?:\d[ -]?){13,19}\b")
TOKEN = re.compile(r"\b[A-Za-z0-9_\-+/=]{32,}\b")


def quality_report(df: pd.DataFrame, *, target: str | None, schema: list[dict] | None = None) -> dict:
    """Judge ``df``; ``schema`` (list of {name, kind, excluded, reason}) adds identifier warnings.

    Returns:
        A JSON-ready dict with keys rows, columns, missing, duplicates, class_balance, outliers,
        pii, warnings, distributions, sampled_rows.
    """
    sample = df.sample(SAMPLE_ROWS, random_state=0) if len(df) > SAMPLE_ROWS else df
    kinds = {c["name"]: c["kind"] for c in schema or []}
    warnings: list[dict] = []
    report = {
        "rows": len(df),
        "columns": len(df.columns),
        "sampled_rows": len(sample),
        "missing": {str(c): round(float(v), 4) for c, v in df.isna().mean().items()},
        "distinct": {str(c): int(_nunique(df[c])) for c in df.columns},
        "duplicates": _duplicates(df),
        "class_balance": _class_balance(df, target),
        "outliers": {},
        "pii": [],
        "warnings": warnings,
        "distributions": {},
    }
    for col in df.columns:
        series = df[col]
        name = str(col)
        if report["missing"][name] == 1.0:
            warnings.append({"column": name, "kind": "all_missing", "message": "every value is missing"})
        elif report["distinct"][name] == 1:
            warnings.append({"column": name, "kind": "constant", "message": "one value in every row"})
        if _is_numeric(series):
            outliers = _robust_outliers(sample[col])
            if outliers:
                report["outliers"][name] = outliers
        report["distributions"][name] = _distribution(series)
        if _is_texty(series):
            found = _pii(sample[col], name)
            report["pii"].extend(found)
            if found:  # the top values must not echo what was found
                top = report["distributions"][name]
                top["values"] = [REDACTED if _pii(pd.Series([v]), name) else v for v in top.get("values", [])]
    for spec in schema or []:
        if spec.get("excluded") and spec.get("reason", "").startswith("identifier"):
            warnings.append({"column": spec["name"], "kind": "identifier", "message": spec["reason"]})
    if target is not None and target in df.columns:
        warnings.extend(_leakage(sample, target, kinds))
    return report


def _is_texty(series: pd.Series) -> bool:
    return not (
        pd.api.types.is_numeric_dtype(series)
        or pd.api.types.is_bool_dtype(series)
        or pd.api.types.is_datetime64_any_dtype(series)
    )


def _nunique(series: pd.Series) -> int:
    try:
        return series.nunique(dropna=True)
    except TypeError:  # unhashable cells (lists)
        return series.astype(str).nunique(dropna=True)


def _is_numeric(series: pd.Series) -> bool:
    return pd.api.types.is_numeric_dtype(series) and not pd.api.types.is_bool_dtype(series)


def _duplicates(df: pd.DataFrame) -> dict:
    hashes = pd.util.hash_pandas_object(df.astype(str) if _has_unhashable(df) else df, index=False)
    count = int(hashes.duplicated().sum())
    return {"count": count, "share": round(count / len(df), 4) if len(df) else 0.0}


def _has_unhashable(df: pd.DataFrame) -> bool:
    return any(df[c].head(50).map(lambda v: isinstance(v, (list, dict, np.ndarray))).any() for c in df.columns)


def _class_balance(df: pd.DataFrame, target: str | None) -> dict:
    if target is None or target not in df.columns:
        return {}
    y = df[target]
    if _is_numeric(y) and y.nunique() > 20:
        return {}  # a regression target has no classes
    counts = y.astype(str).where(y.notna()).value_counts(dropna=True)
    total = int(counts.sum())
    return {str(k): {"count": int(v), "share": round(v / total, 4)} for k, v in counts.items()}


def _robust_outliers(series: pd.Series) -> dict | None:
    """Rows whose modified z-score (0.6745 * (x - median) / MAD) is beyond ``ROBUST_Z``."""
    x = series.dropna().to_numpy(dtype=float)
    if len(x) < 10:
        return None
    median = float(np.median(x))
    mad = float(np.median(np.abs(x - median)))
    if mad == 0:
        return None
    z = 0.6745 * (x - median) / mad
    count = int((np.abs(z) > ROBUST_Z).sum())
    if not count:
        return None
    return {"count": count, "share": round(count / len(x), 4), "median": median, "mad": mad, "threshold": ROBUST_Z}


def _distribution(series: pd.Series) -> dict:
    values = series.dropna()
    if values.empty:
        return {"type": "empty"}
    if _is_numeric(series):
        finite = values.to_numpy(dtype=float)
        finite = finite[np.isfinite(finite)]
        if finite.size == 0:
            return {"type": "empty"}
        counts, edges = np.histogram(finite, bins=HISTOGRAM_BINS)
        return {"type": "histogram", "counts": counts.tolist(), "edges": [round(float(e), 6) for e in edges]}
    if pd.api.types.is_datetime64_any_dtype(values):
        seconds = values.astype("datetime64[s, UTC]" if values.dt.tz is not None else "datetime64[s]").astype("int64")
        counts, edges = np.histogram(seconds.to_numpy(), bins=HISTOGRAM_BINS)
        stamps = pd.to_datetime(edges, unit="s").strftime("%Y-%m-%dT%H:%M:%S")
        return {"type": "histogram", "counts": counts.tolist(), "edges": list(stamps)}
    top = values.value_counts().head(TOP_VALUES)
    top.index = top.index.astype(str)
    return {"type": "top_values", "values": top.index.tolist(), "counts": [int(c) for c in top.to_numpy()]}


def _pii(series: pd.Series, name: str) -> list[dict]:
    text = series.dropna().astype(str)
    if text.empty:
        return []
    found = []
    keyed = pd.Series(False, index=text.index)
    for kind, pattern in PII_PATTERNS.items():
        hits = text.str.contains(pattern)
        if kind in ("api_key", "private_key"):
            keyed |= hits
        if hits.any():
            found.append({"column": name, "kind": kind, "count": int(hits.sum())})
    cards = sum(_has_card_number(v) for v in text[text.str.contains(CARD)])
    if cards:
        found.append({"column": name, "kind": "credit_card", "count": cards})
    # Tokens by entropy, on values no known key pattern has already claimed.
    candidates = text[~keyed]
    tokens = sum(_has_secret_token(v) for v in candidates[candidates.str.contains(TOKEN)])
    if tokens:
        found.append({"column": name, "kind": "secret_token", "count": tokens})
    return found


def _has_card_number(value: str) -> bool:
    for match in CARD.finditer(value):
        digits = re.sub(r"\D", "", match.group())
        if 13 <= len(digits) <= 19 and _luhn(digits):
            return True
    return False


def _luhn(digits: str) -> bool:
    total = 0
    for i, d in enumerate(reversed(digits)):
        n = int(d) * (2 if i % 2 else 1)
        total += n - 9 if n > 9 else n
    return total % 10 == 0


def _has_secret_token(value: str) -> bool:
    """A long run of mixed letters and digits with high Shannon entropy (a key or token)."""
    for match in TOKEN.finditer(value):
        token = match.group()
        if re.search(r"\d", token) and re.search(r"[A-Za-z]", token) and _entropy(token) >= MIN_ENTROPY_BITS:
            return True
    return False


def _entropy(token: str) -> float:
    counts = pd.Series(list(token)).value_counts().to_numpy()
    p = counts / counts.sum()
    return float(-(p * np.log2(p)).sum())


def _leakage(sample: pd.DataFrame, target: str, kinds: dict) -> list[dict]:
    """A column that alone predicts the target almost perfectly.

    Classification: accuracy of predicting the target's majority label per value of the column
    (numbers cut into 20 quantile bins), when the column has fewer distinct values than rows/2
    (an identifier would "predict" perfectly by memorising). Regression: |Spearman rho|.
    """
    y = sample[target]
    keep = y.notna()
    y = y[keep]
    if y.nunique() < 2:
        return []
    regression = _is_numeric(y) and y.nunique() > 20
    y_codes, classes = pd.factorize(y)
    baseline = int(np.bincount(y_codes).max())
    warnings = []
    for col in sample.columns:
        if col == target or kinds.get(col) in ("text",):
            continue
        x = sample.loc[keep, col]
        if x.isna().mean() > 0.5 or _nunique(x) < 2:
            continue
        if regression:
            if not _is_numeric(x):
                continue
            rho = x.corr(y, method="spearman")
            score = abs(rho) if rho is not None and not math.isnan(rho) else 0.0
        else:
            score = _purity(x, y_codes, len(classes), baseline)
        if score >= LEAKAGE_SCORE:
            warnings.append(
                {
                    "column": str(col),
                    "kind": "leakage",
                    "message": f"predicts the target {target!r} almost perfectly on its own (score {score:.3f})",
                }
            )
    return warnings


def _purity(x: pd.Series, y_codes: np.ndarray, n_classes: int, baseline: int) -> float:
    if pd.api.types.is_datetime64_any_dtype(x):
        return 0.0
    if _is_numeric(x) and x.nunique() > 20:
        x = pd.qcut(x, 20, labels=False, duplicates="drop")
    x_codes, uniques = pd.factorize(x, use_na_sentinel=False)
    if len(uniques) > len(x) / 2:
        return 0.0
    table = np.bincount(x_codes * n_classes + y_codes, minlength=len(uniques) * n_classes)
    majority = int(table.reshape(len(uniques), n_classes).max(axis=1).sum())
    if majority <= baseline:
        return 0.0  # no better than always guessing the most common label
    return majority / len(y_codes)
