"""Model quality of the product's default network against scikit-learn's HistGradientBoosting.

For each real data set in ../shared/data (or /work/shared/data) and each generator pattern, both
models see the same rows: the product's own deterministic split (``split_rows``, default
validation/test fractions). The product trains with ``TrainConfig()`` defaults (it uses the
validation rows for early stopping); the GBDT, with its defaults, is fitted on the same training
rows and early-stops on the same validation rows (``fit(X_val=, y_val=)``, early_stopping=True)
on the same features: numerics as they are,
datetime parts, the product's hashed bag of words for text and multi-hot for tags, categoricals
as integer codes marked categorical. Both are scored on the same held-out test rows. Each case runs
for several seeds (split and initialisation) and the means are printed, with the standard error of
the mean per-seed ratio (``se``). Ten seeds by default: hhs_breaches has a 116-row test split, where
one seed's accuracy moves by about 0.05 from the split alone, so three seeds cannot tell 0.98 from
1.00.

The ensemble columns (``ens``, ``e/gb``): on real data, ``--ensemble K`` (default 5) members
trained as ``neural/training/ensembles.py`` trains them (``TrainConfig(bagging_seed=...)``: the
same split, each member on a bootstrap sample of the training rows with its own initialisation),
combined by soft voting through ``EnsemblePredictor``, on the same test rows. ``--ensemble 0``
skips them. ``--options '{"dropout": 0.1}'`` trains the single network with those options over the
defaults (a diagnosis: the defaults are chosen by the protocol below, never on these sets).

Run from the repository root::

    .venv/bin/python benchmarks/model_quality.py [--seeds 10] [--only cran_class,email] [--rows 3000] [--ensemble 5]

``--collection packages`` runs the protocol of docs/model-quality.md instead: twelve data sets
that ship inside registry packages (benchmarks/quality_data.py), a fixed development /
confirmation split of the collection, five seeds, HistGradientBoosting, LightGBM and a linear
model as baselines in the same run, and fit times (benchmarks/quality_protocol.py)::

    nice -n 10 .venv/bin/python benchmarks/model_quality.py --collection packages --half dev
    nice -n 10 .venv/bin/python benchmarks/model_quality.py --collection packages --half confirm
    nice -n 10 .venv/bin/python benchmarks/model_quality.py --timing
"""

from __future__ import annotations

import argparse
import json
import shlex
import statistics
import sys
import time
from dataclasses import dataclass
from pathlib import Path

import numpy as np
import pandas as pd
from sklearn import metrics as skm
from sklearn.ensemble import HistGradientBoostingClassifier, HistGradientBoostingRegressor

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))
sys.path.insert(0, str(Path(__file__).resolve().parent))

import quality_protocol as packaged

from neural.datasets.generator import generate
from neural.engine.config import TrainConfig
from neural.engine.ensemble import EnsemblePredictor
from neural.engine.pipeline import TrainedModel, split_rows, train_tabular
from neural.engine.predictor import TabularPredictor
from neural.engine.preprocessing import TabularPreprocessor
from neural.engine.schema import infer_schema, infer_task

DATA_DIRS = [Path(__file__).resolve().parent.parent.parent / "shared" / "data", Path("/work/shared/data")]
PATTERNS = ("coordination", "optimization", "prediction", "security")
TARGET_RATIO = 0.99


@dataclass
class Case:
    name: str
    df: pd.DataFrame
    target: str
    real: bool


def _data_dir() -> Path:
    for d in DATA_DIRS:
        if (d / "cran_check_times.csv").is_file():
            return d
    raise SystemExit(f"no real data found in {', '.join(map(str, DATA_DIRS))}")


def load_cases(generator_rows: int) -> list[Case]:
    data = _data_dir()
    cran = pd.read_csv(data / "cran_check_times.csv")
    cran_class = cran.assign(slow=(cran["check_time"] > cran["check_time"].median()).astype(int)).drop(
        columns="check_time"
    )
    email = pd.read_csv(data / "openintro_email.csv")
    hhs = pd.read_csv(data / "hhs_breaches.csv")
    cases = [
        Case("cran_regression", cran, "check_time", True),
        Case("cran_class", cran_class, "slow", True),
        Case("email_spam", email, "spam", True),
        Case("hhs_breach_type", hhs, "Type.of.Breach", True),
    ]
    for pattern in PATTERNS:
        df, target = generate(pattern=pattern, rows=generator_rows, seed=7)
        cases.append(Case(f"gen_{pattern}", df, target, False))
    return cases


def gbdt_features(df: pd.DataFrame, specs, fit_rows: np.ndarray):
    """The GBDT's matrix: the product's preprocessing for numerics, text and tags; categoricals
    as integer codes (unknown = 0) flagged as categorical when they fit the GBDT's 255 bins."""
    pre = TabularPreprocessor(columns=specs).fit(df.iloc[fit_rows])
    x_num, x_cat = pre.transform(df)
    cat_mask = [False] * x_num.shape[1] + [c <= 255 for c in pre.cardinalities]
    return np.hstack([x_num, x_cat.astype(np.float32)]), cat_mask


def ensemble_score(case: Case, df, specs, task, seed: int, members: int) -> tuple[float, float]:
    """Test score of ``members`` bagged networks combined by soft voting, and the seconds taken."""
    started = time.perf_counter()
    trained: list[TrainedModel] = [
        train_tabular(
            df, case.target, config=TrainConfig(seed=seed, bagging_seed=1000 * seed + k), columns=specs, task=task
        )
        for k in range(members)
    ]
    predictors = [TabularPredictor(t.network, t.preprocessor, t.encoder, t.meta()) for t in trained]
    ensemble = EnsemblePredictor(predictors, "voting", {"weights": np.full(members, 1.0 / members)}, {})
    test = trained[0].frames["test"]
    output = ensemble.predict_array(test)
    elapsed = time.perf_counter() - started
    if task.is_classification:
        truth = test[case.target].map({v: i for i, v in enumerate(trained[0].encoder.classes_)}).to_numpy()
        return float(skm.accuracy_score(truth, output.argmax(axis=1))), elapsed
    return float(skm.r2_score(test[case.target].to_numpy(dtype=float), output)), elapsed


def run_case(case: Case, seed: int, members: int = 0, options: dict | None = None) -> dict:
    df = case.df[case.df[case.target].notna()].reset_index(drop=True)
    task = infer_task(df[case.target])
    specs = [c for c in infer_schema(df, case.target) if c.name != case.target]
    config = TrainConfig.from_dict({**(options or {}), "seed": seed})
    split = split_rows(df[case.target], task, config)

    started = time.perf_counter()
    trained = train_tabular(df, case.target, config=config, columns=specs, task=task)
    nn_time = time.perf_counter() - started

    started = time.perf_counter()
    x, cat_mask = gbdt_features(df, specs, split.train)
    y = df[case.target]
    if task.is_classification:
        labels = {v: i for i, v in enumerate(trained.encoder.classes_)}
        y = y.map(labels).to_numpy()
        gbdt = HistGradientBoostingClassifier(categorical_features=cat_mask, early_stopping=True, random_state=seed)
    else:
        y = y.to_numpy(dtype=float)
        gbdt = HistGradientBoostingRegressor(categorical_features=cat_mask, early_stopping=True, random_state=seed)
    val = split.val
    if task.is_classification:  # the GBDT refuses validation labels absent from its training rows
        val = val[np.isin(y[val], y[split.train])]
    gbdt.fit(x[split.train], y[split.train], X_val=x[val], y_val=y[val])
    pred = gbdt.predict(x[split.test])
    gb_time = time.perf_counter() - started

    truth = y[split.test]
    if task.is_classification:
        gb = {
            "score": float(skm.accuracy_score(truth, pred)),
            "macro_f1": float(skm.f1_score(truth, pred, average="macro", zero_division=0)),
        }
        nn = {"score": trained.test_metrics["accuracy"], "macro_f1": trained.test_metrics["macro_f1"]}
    else:
        gb = {"score": float(skm.r2_score(truth, pred)), "macro_f1": float("nan")}
        nn = {"score": trained.test_metrics["r2"], "macro_f1": float("nan")}
    ens, ens_time = ensemble_score(case, df, specs, task, seed, members) if members and case.real else (None, 0.0)
    return {
        "ens": ens,
        "ens_time": ens_time,
        "metric": "accuracy" if task.is_classification else "r2",
        "nn": nn,
        "gb": gb,
        "nn_time": nn_time,
        "gb_time": gb_time,
        "epochs": len(trained.fit.history),
        "test_rows": len(split.test),
    }


def main_shared(args: argparse.Namespace) -> None:
    only = {n for n in args.only.split(",") if n}
    header = (
        f"{'case':<18} {'metric':<8} {'nn':>7} {'gbdt':>7} {'ratio':>6} {'se':>5} {'nn_F1':>6} {'gb_F1':>6} "
        f"{'nn_s':>6} {'gb_s':>6} {'epochs':>6} {'test':>5} {'ens':>7} {'e/gb':>6} {'e_se':>5} {'ens_s':>6}"
    )
    print(header)
    rows = []
    ens_rows: list[float] = []
    for case in load_cases(args.rows):
        if only and case.name not in only:
            continue
        results = [run_case(case, seed, args.ensemble, json.loads(args.options)) for seed in range(args.seeds)]

        def mean(key, sub=None, results=results):
            return statistics.fmean(r[key][sub] if sub else r[key] for r in results)

        nn, gb = mean("nn", "score"), mean("gb", "score")
        ratio = nn / gb if gb > 0 else float("nan")
        per_seed = [r["nn"]["score"] / r["gb"]["score"] for r in results if r["gb"]["score"] > 0]
        se = statistics.stdev(per_seed) / len(per_seed) ** 0.5 if len(per_seed) > 1 else float("nan")
        rows.append((case, ratio))
        ens_cols = ""
        if results[0]["ens"] is not None:
            ens = statistics.fmean(r["ens"] for r in results)
            ens_seed = [r["ens"] / r["gb"]["score"] for r in results if r["gb"]["score"] > 0]
            ens_se = statistics.stdev(ens_seed) / len(ens_seed) ** 0.5 if len(ens_seed) > 1 else float("nan")
            ens_ratio = ens / gb if gb > 0 else float("nan")
            ens_rows.append(ens_ratio)
            ens_cols = f" {ens:7.4f} {ens_ratio:6.3f} {ens_se:5.3f} {mean('ens_time'):6.1f}"
        print(
            f"{case.name:<18} {results[0]['metric']:<8} {nn:7.4f} {gb:7.4f} {ratio:6.3f} {se:5.3f} "
            f"{mean('nn', 'macro_f1'):6.3f} {mean('gb', 'macro_f1'):6.3f} {mean('nn_time'):6.1f} "
            f"{mean('gb_time'):6.1f} {mean('epochs'):6.1f} {results[0]['test_rows']:5d}{ens_cols}",
            flush=True,
        )
    real = [r for c, r in rows if c.real]
    if real:
        worst = min(real)
        print(
            f"worst ratio on real data: {worst:.3f} (target >= {TARGET_RATIO}): "
            f"{'MET' if worst >= TARGET_RATIO else 'NOT MET'}"
        )
    if ens_rows:
        worst = min(ens_rows)
        print(
            f"worst ensemble ({args.ensemble} bagged members, voting) / gbdt on real data: {worst:.3f} "
            f"(goal >= 1.00): {'MET' if worst >= 1.0 else 'NOT MET'}"
        )
    print("command: " + shlex.join([".venv/bin/python", *sys.argv]))


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--collection", choices=("shared", "packages"), default="shared")
    parser.add_argument("--half", choices=("dev", "confirm", "all"), default="dev", help="packages only")
    parser.add_argument(
        "--models",
        default="",
        help="packages only: comma-separated model names (candidates on dev, presets on confirm by default)",
    )
    parser.add_argument("--seed-list", default="", help="packages only: these seeds (e.g. 3,4) instead of --seeds")
    parser.add_argument(
        "--raw", default="", help="packages only: append each (set, seed, model) result here (JSON lines)"
    )
    parser.add_argument(
        "--merge", default="", help="packages only: print the table of these --raw files, train nothing"
    )
    parser.add_argument("--timing", action="store_true", help="time to quality on 10,000 rows x 20 columns")
    parser.add_argument("--repeats", type=int, default=3, help="timing: fits per model (the median counts)")
    parser.add_argument("--seeds", type=int, default=None, help="10 for shared, 5 for packages")
    parser.add_argument("--only", default="", help="comma-separated case names")
    parser.add_argument("--rows", type=int, default=3000, help="rows per generator pattern (shared)")
    parser.add_argument("--max-rows", type=int, default=2000, help="row cap per packaged set (time: 2 shared cores)")
    parser.add_argument("--threads", type=int, default=1, help="torch threads (1 is fastest on a shared machine)")
    parser.add_argument("--ensemble", type=int, default=5, help="shared: bagged members on real data (0: none)")
    parser.add_argument(
        "--options",
        default="{}",
        help='shared: training options (JSON) over the defaults, e.g. \'{"architecture": "mlp"}\'',
    )
    args = parser.parse_args()
    import torch

    torch.set_num_threads(args.threads)
    if args.timing:
        packaged.main_timing(args)
    elif args.collection == "packages":
        packaged.main_packages(args)
    else:
        args.seeds = args.seeds or 10
        main_shared(args)


if __name__ == "__main__":
    main()
