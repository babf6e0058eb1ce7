"""New versions from old ones: prepare (clean, validate, redact), augment, split, and generated sets.

Each writes a new immutable version whose ``parent`` is the source and whose ``operation`` says
what was done, with counts computed from the data.
"""

from __future__ import annotations

import numpy as np
import pandas as pd

from neural.datasets.generator import generate
from neural.datasets.models import Dataset
from neural.datasets.quality import quality_report, redact_findings
from neural.datasets.services import SPLIT_COLUMN, dataset_load_frame, dataset_store_frame, validate_name
from neural.errors import DataError


def dataset_prepare(
    *,
    source: Dataset,
    clean: bool = True,
    validate: bool = True,
    impute: str = "median",
    redact_pii: bool = False,
    name: str | None = None,
) -> Dataset:
    """Rules, in order: drop rows with every feature empty; drop exact duplicate rows; drop rows
    without a target; then ``impute="median"`` fills numeric gaps with the column median and
    categorical gaps with the most common value, ``impute="drop"`` drops rows with any gap;
    ``redact_pii`` replaces e-mails, IPs, phone numbers, card numbers and keys with a placeholder.
    ``validate`` refuses a result that cannot train (one class, no rows, all-missing columns)."""
    if not (clean or validate or redact_pii):
        raise DataError("nothing to do: give clean, validate or redact_pii", field="clean")
    if impute not in ("median", "drop"):
        raise DataError("impute must be 'median' or 'drop'", field="impute")
    df = dataset_load_frame(source)
    counts = {"rows_in": len(df)}
    if clean:
        features = [c["name"] for c in source.schema if not c["excluded"] and c["name"] != source.target]
        df, counts = _clean(df, source.target, features, impute, counts)
    if redact_pii:
        df, counts["redacted_cells"] = _redact(df, source)
    if validate:
        _validate(df, source.target)
    counts["rows_out"] = len(df)
    params = {"clean": clean, "validate": validate, "impute": impute, "redact_pii": redact_pii}
    return _store(source, df, op="prepare", params=params, summary=counts, name=name)


def _clean(df: pd.DataFrame, target: str, features: list[str], impute: str, counts: dict) -> tuple[pd.DataFrame, dict]:
    """``features``: the included columns; a row empty in all of them is empty (ids do not count)."""
    empty = df[features].isna().all(axis=1)
    df = df[~empty]
    counts["empty_rows_dropped"] = int(empty.sum())
    dup = pd.util.hash_pandas_object(df, index=False).duplicated()
    df = df[~dup.to_numpy()]
    counts["duplicates_dropped"] = int(dup.sum())
    no_target = df[target].isna()
    df = df[~no_target]
    counts["rows_without_target_dropped"] = int(no_target.sum())
    all_missing = [c for c in df.columns if c not in (target, SPLIT_COLUMN) and df[c].isna().all()]
    df = df.drop(columns=all_missing)
    counts["all_missing_columns_dropped"] = all_missing
    if impute == "drop":
        gaps = df.isna().any(axis=1)
        counts["rows_with_gaps_dropped"] = int(gaps.sum())
        df = df[~gaps]
    else:
        filled = 0
        for col in [c for c in df.columns if c != target and df[c].isna().any()]:
            gaps = int(df[col].isna().sum())
            numeric = pd.api.types.is_numeric_dtype(df[col]) and not pd.api.types.is_bool_dtype(df[col])
            fill = df[col].median() if numeric else df[col].mode(dropna=True).iloc[0]
            df[col] = df[col].fillna(fill)
            filled += gaps
        counts["cells_imputed"] = filled
    return df.reset_index(drop=True), counts


def _redact(df: pd.DataFrame, source: Dataset) -> tuple[pd.DataFrame, int]:
    report = source.quality or quality_report(df, target=source.target, schema=source.schema)
    columns = sorted({p["column"] for p in report.get("pii", []) if p["column"] in df.columns})
    total = 0
    df = df.copy()
    for col in columns:
        text = df[col].astype("string")
        redacted = redact_findings(text)
        total += int((redacted.fillna("") != text.fillna("")).sum())
        df[col] = redacted.astype(object).where(text.notna(), None)
    return df, total


def _validate(df: pd.DataFrame, target: str) -> None:
    if df.empty:
        raise DataError("no rows left after preparing", field="source")
    if df[target].nunique() < 2:
        raise DataError(f"target column {target!r} has fewer than 2 distinct values after preparing", field="target")
    empty = [c for c in df.columns if df[c].isna().all()]
    if empty:
        raise DataError(f"column(s) with every value missing: {', '.join(empty)}", field="source")


def dataset_augment(*, dataset: Dataset, factor: float, seed: int = 0) -> Dataset:
    """SMOTE-style: each class smaller than the largest gains synthetic rows, up to ``factor`` x
    its size (never beyond the largest class). A synthetic row interpolates the numbers of a row
    and another row of its class (at a random point between them) and takes the other columns
    from one of the two. Only training rows are used: validation rows of a stored split are
    never copied or interpolated."""
    if not factor > 1:
        raise DataError("factor must be greater than 1", field="factor")
    if dataset.task == "regression":
        raise DataError("augment balances classes; this data set's target is a regression target", field="dataset")
    df = dataset_load_frame(dataset)
    rng = np.random.default_rng(seed)
    train = df[df[SPLIT_COLUMN] == "train"] if SPLIT_COLUMN in df.columns else df
    counts = train[dataset.target].value_counts()
    numeric = [
        c
        for c in df.columns
        if c != dataset.target and pd.api.types.is_numeric_dtype(df[c]) and not pd.api.types.is_bool_dtype(df[c])
    ]
    synthetic, added = [], {}
    for label, n in counts.items():
        wanted = min(int(n * (factor - 1)), int(counts.max() - n))
        if wanted <= 0 or n < 2:
            continue
        rows = train[train[dataset.target] == label]
        synthetic.append(_interpolate(rows, numeric, wanted, rng))
        added[str(label)] = wanted
    if not synthetic:
        raise DataError("no class is smaller than the largest one: nothing to oversample", field="dataset")
    out = pd.concat([df, *synthetic], ignore_index=True)
    summary = {"rows_in": len(df), "rows_added": added, "rows_out": len(out)}
    return _store(dataset, out, op="augment", params={"factor": factor, "seed": seed}, summary=summary)


def _interpolate(rows: pd.DataFrame, numeric: list[str], n: int, rng: np.random.Generator) -> pd.DataFrame:
    a = rows.iloc[rng.integers(0, len(rows), n)].reset_index(drop=True)
    b = rows.iloc[rng.integers(0, len(rows), n)].reset_index(drop=True)
    out = a.copy()
    gap = rng.random(n)
    for col in numeric:
        values = a[col] + gap * (b[col] - a[col])
        if pd.api.types.is_integer_dtype(rows[col]):
            values = values.round()
        out[col] = values.astype(rows[col].dtype) if not values.isna().any() else values
    take_b = rng.random(n) < 0.5
    for col in [c for c in rows.columns if c not in numeric]:
        out.loc[take_b, col] = b.loc[take_b, col]
    return out


def dataset_split(
    *,
    dataset: Dataset,
    validation_ratio: float,
    stratify: bool = False,
    time_column: str | None = None,
    seed: int = 0,
) -> Dataset:
    """A new version with a ``__split__`` column (train / validation), excluded from features."""
    if not 0 < validation_ratio < 1:
        raise DataError("validation ratio must be between 0 and 1", field="validation_ratio")
    df = dataset_load_frame(dataset).drop(columns=[SPLIT_COLUMN], errors="ignore")
    n = len(df)
    n_val = round(n * validation_ratio)
    if n_val < 1 or n_val >= n:
        raise DataError(f"a ratio of {validation_ratio} leaves an empty part of {n} rows", field="validation_ratio")
    if time_column:
        if time_column not in df.columns:
            raise DataError(f"no column {time_column!r}", field="time_column")
        order = pd.to_datetime(df[time_column], utc=True, errors="coerce", format="mixed")
        if order.isna().all():
            order = pd.to_numeric(df[time_column], errors="coerce")
        val = np.zeros(n, dtype=bool)
        val[np.argsort(order.to_numpy(), kind="stable")[n - n_val :]] = True
    elif stratify:
        y = df[dataset.target].astype(str)
        if y.value_counts().min() < 2:
            raise DataError("stratify needs at least 2 rows of every class", field="stratify")
        rng = np.random.default_rng(seed)
        val = np.zeros(n, dtype=bool)
        for _, idx in df.groupby(y).indices.items():
            take = round(len(idx) * validation_ratio)
            val[rng.choice(idx, take, replace=False)] = True
    else:
        val = np.zeros(n, dtype=bool)
        val[np.random.default_rng(seed).choice(n, n_val, replace=False)] = True
    df[SPLIT_COLUMN] = np.where(val, "validation", "train")
    split = {
        "column": SPLIT_COLUMN,
        "validation_ratio": validation_ratio,
        "stratify": stratify,
        "time_column": time_column,
        "seed": seed,
        "train_rows": int((~val).sum()),
        "validation_rows": int(val.sum()),
    }
    return _store(dataset, df, op="split", params=split, summary=split, split=split)


def dataset_generate(*, pattern: str, rows: int, name: str, seed: int = 0, drift: bool = False) -> Dataset:
    validate_name(name)
    df, target = generate(pattern=pattern, rows=rows, seed=seed, drift=drift)
    params = {
        "pattern": pattern,
        "rows": rows,
        "seed": seed,
        "drift": drift,
        "noise_ceiling": df.attrs["noise_ceiling"],
    }
    df.attrs = {}
    return dataset_store_frame(
        df=df,
        name=name,
        target=target,
        pattern=pattern,
        source_format="generator",
        operation={"op": "generate", "params": params, "summary": {"rows": rows}},
    )


def _store(source: Dataset, df: pd.DataFrame, *, op: str, params: dict, summary: dict, name=None, split=None):
    return dataset_store_frame(
        df=df,
        name=name or source.name,
        target=source.target,
        pattern=source.pattern,
        source_format=source.source_format,
        parent=source,
        operation={"op": op, "params": params, "summary": summary},
        overrides={k: v for k, v in source.column_overrides.items() if k in df.columns},
        split=split or (source.split if SPLIT_COLUMN in df.columns else None),
    )
