"""The quality report of a data set: what is missing, odd, duplicated, leaking or sensitive.

Every figure is computed from the frame. PII and secrets are reported by column, kind and count:
the values themselves never appear in the report. Large frames are judged on a fixed random
sample of rows for the expensive checks (leakage, PII, outliers), and the report says so.
"""

from __future__ import annotations

import math
import re
from collections import deque
from collections.abc import Iterator
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass, field

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
    # US social security numbers: never area 000, 666 or 9xx, group 00 or serial 0000.
    "ssn": re.compile(r"(?<![\w-])(?!000|666|9\d\d)\d{3}-(?!00)\d{2}-(?!0000)\d{4}(?![\w-])"),
    "private_key": re.compile(r"-----BEGIN (?:[A-Z]+ )?PRIVATE KEY-----"),
    "api_key": re.compile(
        r"\b(?:AKIA[0-9A-Z]{16}|gh[pousr]_[A-Za-z0-9]{30,}|sk-[A-Za-z0-9_-]{20,}|xox[abpr]-[A-Za-z0-9-]{10,}"
        r"|AIza[0-9A-Za-z_-]{35})\b"
    ),
}
CARD = re.compile(r"\b(?:\d[ -]?){13,19}\b")
# An integer column is one of card numbers when this share of its 13 to 19 digit values pass the
# Luhn check (one in ten random numbers does).
CARD_COLUMN_SHARE = 0.9
TOKEN = re.compile(r"\b[A-Za-z0-9_\-+/=]{32,}\b")


def sample_positions(rows: int, size: int, seed: int = 0) -> np.ndarray | None:
    """The row positions ``DataFrame.sample(size, random_state=seed)`` takes from ``rows`` rows
    (the same draw), or None when every row is kept. Lets a column at a time be sampled alike."""
    if rows <= size:
        return None
    return np.random.RandomState(seed).choice(rows, size=size, replace=False).astype(np.intp)


def _sample_positions_for(rows: int, size: int, extra_size: int | None) -> tuple:
    """``sample_positions(rows, size)`` and ``sample_positions(rows, extra_size)`` from one draw:
    ``RandomState.choice(..., replace=False)`` takes the head of one permutation, so the smaller
    sample is the head of the larger (drawing a permutation of a million rows costs 80 ms)."""
    largest = sample_positions(rows, max(size, extra_size or 0))
    if largest is None:  # the larger sample is every row; the smaller may still be a draw
        return sample_positions(rows, size), (sample_positions(rows, extra_size) if extra_size else None)
    return largest[:size], (largest[:extra_size] if extra_size else None)


def quality_report(df, *, target: str | None, schema: list[dict] | None = None) -> dict:
    """Judge ``df``; ``schema`` (list of {name, kind, excluded, reason}) adds identifier warnings.

    ``df`` is a DataFrame or anything that reads like one a column at a time (``len()``,
    ``.columns``, ``[name]``, e.g. ``storage.ParquetColumns``): each column is read once and
    dropped, so memory is one column plus the row-hash array plus the fixed row sample.

    Returns:
        A JSON-ready dict with keys rows, columns, missing, duplicates, class_balance, outliers,
        pii, warnings, distributions, sampled_rows.
    """
    return finish_report(profile_columns(df, target=target), schema=schema)


@dataclass
class ColumnProfile:
    """What one pass over the columns learns: the report's per-column parts, the row sample for
    the cross-column checks, and facts the schema needs about each whole column."""

    report: dict
    sample: pd.DataFrame  # the fixed SAMPLE_ROWS sample (every row when fewer)
    target: str | None
    distinct: dict = field(default_factory=dict)
    present: dict = field(default_factory=dict)  # non-missing values per column
    integer_span: dict = field(default_factory=dict)  # max - min of integer columns
    extra_sample: pd.DataFrame | None = None  # the extra_sample_rows sample, when asked for


def profile_columns(df, *, target: str | None, extra_sample_rows: int | None = None) -> ColumnProfile:
    """Read each column of ``df`` once; see ``quality_report``. ``extra_sample_rows`` also keeps
    the rows ``DataFrame.sample(extra_sample_rows, random_state=0)`` would take (for the schema)."""
    rows = len(df)
    positions, extra = _sample_positions_for(rows, SAMPLE_ROWS, extra_sample_rows)
    report = {
        "rows": rows,
        "columns": len(df.columns),
        "sampled_rows": rows if positions is None else len(positions),
        "missing": {},
        "distinct": {},
        "duplicates": {},
        "class_balance": {},
        "outliers": {},
        "pii": [],
        "warnings": [],
        "distributions": {},
    }
    profile = ColumnProfile(report=report, sample=pd.DataFrame(), target=target)
    row_hash = np.zeros(rows, dtype=np.uint64)
    sample: dict = {}
    extra_sample: dict = {}
    warnings = report["warnings"]

    def judge(col) -> dict:
        series = df[col]
        part = {"picked": series if positions is None else series.take(positions)}
        if extra_sample_rows:
            part["extra"] = series if extra is None else series.take(extra)
        ordered = _sorted_present(series)
        part["hashes"], part["distinct"] = _value_hashes(series, ordered)
        part["present"] = int(series.notna().sum())
        if pd.api.types.is_integer_dtype(series) and part["distinct"]:
            part["integer_span"] = int(series.max()) - int(series.min())
        if col == target:
            part["class_balance"] = _class_balance(series, part["distinct"])
        if _is_numeric(series):
            part["outliers"] = _robust_outliers(part["picked"])
        part["distribution"] = _distribution(series, ordered)
        del ordered
        if _is_texty(series):
            part["pii"] = _pii(part["picked"], str(col))
        elif pd.api.types.is_integer_dtype(series):
            part["pii"] = _numeric_cards(part["picked"], str(col))
        return part

    for col, part in zip(df.columns, _ordered_map(judge, df.columns), strict=True):
        name = str(col)
        sample[col] = part["picked"]
        if extra_sample_rows:
            extra_sample[col] = part["extra"]
        row_hash *= _MIX  # wraps around: arithmetic modulo 2**64
        row_hash += part["hashes"]
        distinct = profile.distinct[col] = part["distinct"]
        present = profile.present[col] = part["present"]
        if "integer_span" in part:
            profile.integer_span[col] = part["integer_span"]
        report["missing"][name] = round((rows - present) / rows, 4) if rows else 0.0
        report["distinct"][name] = distinct
        if "class_balance" in part:
            report["class_balance"] = part["class_balance"]
        if report["missing"][name] == 1.0:
            warnings.append({"column": name, "kind": "all_missing", "message": "every value is missing"})
        elif distinct == 1:
            warnings.append({"column": name, "kind": "constant", "message": "one value in every row"})
        if part.get("outliers"):
            report["outliers"][name] = part["outliers"]
        report["distributions"][name] = part["distribution"]
        if part.get("pii"):
            report["pii"].extend(part["pii"])
            # the top values must not echo what was found
            top = report["distributions"][name]
            top["values"] = [REDACTED if _pii(pd.Series([v]), name) else v for v in top.get("values", [])]
        del part
    count = int(pd.Series(row_hash).duplicated().sum()) if rows else 0
    report["duplicates"] = {"count": count, "share": round(count / rows, 4) if rows else 0.0}
    if positions is None and isinstance(df, pd.DataFrame):
        profile.sample = df
    else:
        profile.sample = pd.DataFrame(sample, columns=df.columns)
    if extra_sample_rows:
        whole = extra is None and isinstance(df, pd.DataFrame)
        profile.extra_sample = df if whole else pd.DataFrame(extra_sample, columns=df.columns)
    return profile


def finish_report(profile: ColumnProfile, *, schema: list[dict] | None) -> dict:
    """The report from one pass over the columns, plus identifier and leakage warnings."""
    report = {**profile.report, "warnings": list(profile.report["warnings"])}
    kinds = {c["name"]: c["kind"] for c in schema or []}
    for spec in schema or []:
        if spec.get("excluded") and spec.get("reason", "").startswith("identifier"):
            report["warnings"].append({"column": spec["name"], "kind": "identifier", "message": spec["reason"]})
    if profile.target is not None and profile.target in profile.sample.columns:
        report["warnings"].extend(_leakage(profile.sample, profile.target, kinds))
    return report


# Columns are judged two at a time (reading Parquet, hashing and counting release the GIL); at most
# this many columns are in memory at once, and results are combined in column order.
COLUMN_THREADS = 2


def _ordered_map(fn, items) -> Iterator:
    """``map(fn, items)`` on COLUMN_THREADS threads, in order, with at most COLUMN_THREADS + 1
    results waiting (``Executor.map`` would start every item at once)."""
    items = list(items)
    if COLUMN_THREADS < 2 or len(items) < 2:
        yield from map(fn, items)
        return
    with ThreadPoolExecutor(max_workers=COLUMN_THREADS, thread_name_prefix="quality") as pool:
        pending: deque = deque()
        for item in items:
            pending.append(pool.submit(fn, item))
            if len(pending) > COLUMN_THREADS:
                yield pending.popleft().result()
        while pending:
            yield pending.popleft().result()


# Rows are duplicates when every column's value hash matches: each column's 64-bit hashes (mixed,
# on the column's thread) are folded into the row's as row * _MIX + column, modulo 2**64, in column
# order; equal rows fold equal, and two different rows fold equal with a chance of about 2**-64.
_MIX = np.uint64(0x100000001B3)


def _value_hashes(series: pd.Series, ordered: np.ndarray | None = None) -> tuple[np.ndarray, int]:
    """A mixed 64-bit hash per row (equal values, equal hashes) and the distinct non-missing count.

    Numbers, booleans and dates hash arithmetically and are counted by ``_count_distinct`` (from
    ``ordered``, the column's ``_sorted_present`` values, when given); text goes through
    ``factorize``, whose codes are exact and give the distinct count on the way."""
    if _has_unhashable(series):
        series = series.astype(str).where(series.notna())
    if _numpy_typed(series):
        return pd.util.hash_pandas_object(series, index=False).to_numpy(), _count_distinct(series, ordered)
    codes, uniques = pd.factorize(series)
    return pd.util.hash_array(codes.astype(np.uint64), categorize=False), len(uniques)


def _numpy_typed(series: pd.Series) -> bool:
    """Numbers, booleans and dates (time-zone aware too): values with an arithmetic hash."""
    return (isinstance(series.dtype, np.dtype) and series.dtype != object) or isinstance(
        series.dtype, pd.DatetimeTZDtype
    )


def _sorted_present(series: pd.Series) -> np.ndarray | None:
    """The non-missing values of a numpy-typed number or date column, sorted (dates as int64
    ticks); None for other columns. One sort gives both the distinct count and the histogram:
    numpy's SIMD sort of a million values takes 15-20 ms where pandas' hash table took 40-140 ms
    (depending on the machine's caches) and ``np.unique`` on integers over a second."""
    if isinstance(series.dtype, pd.DatetimeTZDtype):
        series = series.dt.tz_convert("UTC").dt.tz_localize(None)  # the instants, naive
    if not isinstance(series.dtype, np.dtype) or series.dtype.kind not in "iufM":
        return None
    values = series.to_numpy()
    if values.dtype.kind == "M":
        values = values.view(np.int64)
        values = values[values != np.iinfo(np.int64).min]  # NaT
    elif values.dtype.kind == "f":
        values = values[~np.isnan(values)]
    return np.sort(values)


def _count_distinct(series: pd.Series, ordered: np.ndarray | None = None) -> int:
    """``nunique()`` for numpy-typed columns, by counting the steps in the sorted values (-0.0
    and 0.0 are one value, as for pandas)."""
    if ordered is None:
        ordered = _sorted_present(series)
    if ordered is None:
        return int(series.nunique(dropna=True))
    return int(ordered.size and 1 + np.count_nonzero(ordered[1:] != ordered[:-1]))


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


def _has_unhashable(series: pd.Series) -> bool:
    if series.dtype != object:
        return False
    return bool(series.head(50).map(lambda v: isinstance(v, (list, dict, np.ndarray))).any())


def _class_balance(y: pd.Series, distinct: int) -> dict:
    if _is_numeric(y) and distinct > 20:
        return {}  # a regression target has no classes
    if pd.api.types.is_bool_dtype(y.dtype) or pd.api.types.is_integer_dtype(y.dtype):
        # str() is one-to-one on these: count the values, then name them (no string per row)
        counts = y.value_counts(dropna=True)
        counts.index = counts.index.astype(str)
    else:
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


def _distribution(series: pd.Series, ordered: np.ndarray | None = None) -> dict:
    """A histogram of a number or date column, the top values of any other. A number column's
    histogram is read off its sorted values by binary search: ``ordered`` (the column's
    ``_sorted_present`` values) when the caller has them, else sorted here (nullable types)."""
    if _is_numeric(series):
        if ordered is None:
            values = series.to_numpy(dtype=float, na_value=np.nan)
            ordered = np.sort(values[~np.isnan(values)])
        counts, edges = _sorted_histogram(ordered.astype(float, copy=False))
        if counts is None:
            return {"type": "empty"}
        return {"type": "histogram", "counts": counts.tolist(), "edges": [round(float(e), 6) for e in edges]}
    values = series.dropna()
    if values.empty:
        return {"type": "empty"}
    if pd.api.types.is_datetime64_any_dtype(values):
        seconds = values.astype("datetime64[s, UTC]" if values.dt.tz is not None else "datetime64[s]").astype("int64")
        counts, edges = np.histogram(seconds.to_numpy(), bins=HISTOGRAM_BINS)
        stamps = pd.to_datetime(edges, unit="s").strftime("%Y-%m-%dT%H:%M:%S")
        return {"type": "histogram", "counts": counts.tolist(), "edges": list(stamps)}
    top = values.value_counts().head(TOP_VALUES)
    top.index = top.index.astype(str)
    return {"type": "top_values", "values": top.index.tolist(), "counts": [int(c) for c in top.to_numpy()]}


def _sorted_histogram(ordered: np.ndarray) -> tuple[np.ndarray | None, np.ndarray | None]:
    """``np.histogram(finite, HISTOGRAM_BINS)`` of the finite part of sorted floats, exactly: the
    same edges (they depend only on the smallest and largest value), and bin i holds
    edges[i] <= x < edges[i + 1], the last bin its right edge too, as numpy assigns them."""
    finite = ordered[np.searchsorted(ordered, -np.inf, "right") : np.searchsorted(ordered, np.inf, "left")]
    if finite.size == 0:
        return None, None
    edges = _bin_edges(finite[0], finite[-1])
    bounds = np.searchsorted(finite, edges, "left")
    bounds[-1] = finite.size
    return np.diff(bounds), edges


def _bin_edges(lo: float, hi: float) -> np.ndarray:
    """numpy's HISTOGRAM_BINS edges from ``lo`` to ``hi``; where the floats there are too coarse
    for that many distinct edges (a constant 16-digit integer), the distinct ones (at least two)."""
    try:
        return np.histogram_bin_edges(np.array([lo, hi]), bins=HISTOGRAM_BINS)
    except ValueError:  # numpy: "Too many bins for data range"
        edges = np.unique(np.linspace(lo, hi, HISTOGRAM_BINS + 1))
        return edges if edges.size > 1 else np.array([lo, hi])


def _pii(series: pd.Series, name: str) -> list[dict]:
    """Findings per kind, counted over rows; each distinct value is scanned once."""
    text = series.dropna().astype(str)
    if text.empty:
        return []
    tally = text.value_counts(sort=False)
    values = pd.Series(tally.index.astype(str), dtype=object)
    weights = tally.to_numpy()
    found = []
    keyed = np.zeros(len(values), dtype=bool)
    for kind, pattern in PII_PATTERNS.items():
        hits = values.str.contains(pattern).to_numpy(dtype=bool)
        if kind in ("api_key", "private_key"):
            keyed |= hits
        if hits.any():
            found.append({"column": name, "kind": kind, "count": int(weights[hits].sum())})
    maybe = values.str.contains(CARD).to_numpy(dtype=bool)
    cards = sum(int(w) for v, w in zip(values[maybe], weights[maybe], strict=True) if _has_card_number(v))
    if cards:
        found.append({"column": name, "kind": "credit_card", "count": cards})
    # Tokens by entropy, on values no known key pattern has already claimed.
    maybe = values.str.contains(TOKEN).to_numpy(dtype=bool) & ~keyed
    tokens = sum(int(w) for v, w in zip(values[maybe], weights[maybe], strict=True) if _has_secret_token(v))
    if tokens:
        found.append({"column": name, "kind": "secret_token", "count": tokens})
    return found


def _card_like(series: pd.Series) -> pd.Series:
    """The values of an integer column with 13 to 19 digits, as digit strings."""
    digits = series.dropna().map(lambda v: str(abs(int(v)))).astype(object)
    return digits[digits.str.len().between(13, 19)] if len(digits) else digits


def _numeric_cards(series: pd.Series, name: str) -> list[dict]:
    """Card numbers stored as numbers: a finding when nearly all card-like values pass Luhn."""
    digits = _card_like(series)
    if digits.empty:
        return []
    passes = digits.map(_is_card_number).to_numpy(dtype=bool)
    if passes.mean() < CARD_COLUMN_SHARE:
        return []
    return [{"column": name, "kind": "credit_card", "count": int(passes.sum())}]


def redact_frame(df: pd.DataFrame, *, card_columns: set[str] = frozenset()) -> pd.DataFrame:
    """A copy of ``df`` for display: in every text column, each finding the report counts is
    replaced by ``REDACTED`` (whether or not the report's row sample saw that row); in the
    integer ``card_columns`` (report kind ``credit_card``), each value that passes Luhn."""
    out = df.copy()
    for col in out.columns:
        series = out[col]
        if _is_texty(series):
            text = series.astype("string")
            redacted = redact_findings(text)
            changed = (redacted != text).fillna(False).to_numpy(dtype=bool)
            if changed.any():
                out[col] = series.astype(object).where(~changed, REDACTED)
        elif str(col) in card_columns and pd.api.types.is_integer_dtype(series):
            digits = _card_like(series)
            hits = digits.index[digits.map(_is_card_number).to_numpy(dtype=bool)]
            if len(hits):
                out[col] = series.astype(object)
                out.loc[hits, col] = REDACTED
    return out


def _has_card_number(value: str) -> bool:
    return any(_is_card_number(m.group()) for m in CARD.finditer(value))


def _is_card_number(text: str) -> bool:
    digits = re.sub(r"\D", "", text)
    return 13 <= len(digits) <= 19 and _luhn(digits)


def _luhn(digits: str) -> bool:
    total = 0
    for i, d in enumerate(reversed(digits)):
        n = int(d) * (2 if i % 2 else 1)
        total += n - 9 if n > 9 else n
    return total % 10 == 0


def _has_secret_token(value: str) -> bool:
    return any(_is_secret_token(m.group()) for m in TOKEN.finditer(value))


def _is_secret_token(token: str) -> bool:
    """A long run of mixed letters and digits with high Shannon entropy (a key or token)."""
    return bool(re.search(r"\d", token) and re.search(r"[A-Za-z]", token) and _entropy(token) >= MIN_ENTROPY_BITS)


def redact_findings(text: pd.Series) -> pd.Series:
    """``text`` (strings) with every finding the report counts replaced by ``REDACTED``: the same
    patterns, the Luhn check for card numbers and the entropy rule for tokens."""
    for pattern in PII_PATTERNS.values():
        text = text.str.replace(pattern, REDACTED, regex=True)
    text = text.str.replace(CARD, lambda m: REDACTED if _is_card_number(m.group()) else m.group(), regex=True)
    return text.str.replace(TOKEN, lambda m: REDACTED if _is_secret_token(m.group()) else m.group(), regex=True)


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
    all_rows = bool(keep.all())

    def score(col) -> float | None:
        if col == target or kinds.get(col) in ("text",):
            return None
        x = sample[col] if all_rows else sample.loc[keep, col]
        if x.isna().mean() > 0.5:
            return None
        distinct = _nunique(x)
        if distinct < 2:
            return None
        if regression:
            if not _is_numeric(x):
                return None
            rho = x.corr(y, method="spearman")
            return abs(rho) if rho is not None and not math.isnan(rho) else 0.0
        return _purity(x, y_codes, len(classes), baseline, distinct)

    warnings = []
    for col, value in zip(sample.columns, _ordered_map(score, sample.columns), strict=True):
        if value is not None and value >= LEAKAGE_SCORE:
            warnings.append(
                {
                    "column": str(col),
                    "kind": "leakage",
                    "message": f"predicts the target {target!r} almost perfectly on its own (score {value:.3f})",
                }
            )
    return warnings


def _purity(x: pd.Series, y_codes: np.ndarray, n_classes: int, baseline: int, distinct: int) -> float:
    if pd.api.types.is_datetime64_any_dtype(x):
        return 0.0
    if _is_numeric(x) and distinct > 20:
        x_codes, groups = _quantile_bins(x)
    else:
        x_codes, uniques = pd.factorize(x, use_na_sentinel=False)
        groups = len(uniques)
    if groups > len(x) / 2:
        return 0.0
    table = np.bincount(x_codes * n_classes + y_codes, minlength=groups * n_classes)
    majority = int(table.reshape(groups, n_classes).max(axis=1).sum())
    if majority <= baseline:
        return 0.0  # no better than always guessing the most common label
    return majority / len(y_codes)


def _quantile_bins(x: pd.Series) -> tuple[np.ndarray, int]:
    """The groups ``pd.qcut(x, 20, labels=False, duplicates="drop")`` makes (missing values one
    more group), without building intervals: the same quantile edges, then a binary search."""
    values = x.to_numpy(dtype=float)
    edges = np.unique(x.dropna().quantile(np.linspace(0, 1, 21)).to_numpy())
    codes = np.searchsorted(edges, values, side="left") - 1
    codes[codes < 0] = 0  # the lowest edge belongs to the first bin
    codes[np.isnan(values)] = len(edges)  # factorize(use_na_sentinel=False) keeps missing as a group
    counts = np.bincount(codes, minlength=len(edges) + 1)
    dense = np.cumsum(counts > 0) - 1  # qcut's empty bins are no group
    return dense[codes], int((counts > 0).sum())
