"""Synthetic operations history: a simulated swarm of agents running tasks, with causes and effects.

Each pattern draws its inputs, computes the true probability of each outcome from them (so the
cause and effect is real), then samples the outcome: the label noise this leaves is the noise
ceiling, the best accuracy any model can reach, returned in ``df.attrs["noise_ceiling"]``.
With ``drift=True`` the second half of the rows (in time order) comes from a shifted world:
heavier load, harder tasks and a different task mix. Columns per pattern: see docs/data.md.
"""

from __future__ import annotations

import numpy as np
import pandas as pd

from neural.engine.errors import DataError

TASK_TYPES = np.array(["code", "test", "review", "deploy", "research", "security_scan"])
AGENT_TYPES = np.array(["coder", "tester", "reviewer", "devops", "researcher", "security"])
TOPOLOGIES = np.array(["mesh", "hierarchical", "ring", "star"])
PRIORITIES = np.array(["low", "medium", "high", "critical"])
PATTERN_TARGETS = {
    "coordination": "success",
    "optimization": "bottleneck",
    "prediction": "success",
    "security": "high_risk",
}


def _sigmoid(x: np.ndarray) -> np.ndarray:
    return 1.0 / (1.0 + np.exp(-x))


def _base(rng: np.random.Generator, n: int, drift: np.ndarray) -> pd.DataFrame:
    mix = np.where(drift[:, None], [0.1, 0.1, 0.1, 0.3, 0.1, 0.3], [0.3, 0.2, 0.2, 0.1, 0.1, 0.1])
    task_idx = (mix.cumsum(axis=1) > rng.random(n)[:, None]).argmax(axis=1)
    start = pd.Timestamp("2026-01-01T00:00:00Z")
    seconds = np.sort(rng.uniform(0, 30 * 86400, n))
    return pd.DataFrame(
        {
            "task_id": [f"task-{i:07d}" for i in range(n)],
            "timestamp": (start + pd.to_timedelta(seconds, unit="s")).strftime("%Y-%m-%dT%H:%M:%SZ"),
            "task_type": TASK_TYPES[task_idx],
            "task_complexity": np.clip(rng.normal(5 + 1.5 * drift, 2, n), 1, 10).round(1),
            "agent_type": AGENT_TYPES[rng.integers(0, len(AGENT_TYPES), n)],
            "agent_skill": rng.beta(5, 2, n).round(3),
            "agent_load": rng.poisson(2 + 2 * drift, n),
            "priority": PRIORITIES[rng.choice(4, n, p=[0.3, 0.4, 0.2, 0.1])],
        }
    )


def _coordination(rng, df: pd.DataFrame, drift) -> tuple[np.ndarray, np.ndarray]:
    n = len(df)
    df["topology"] = TOPOLOGIES[rng.integers(0, 4, n)]
    df["swarm_size"] = rng.integers(2, 17, n)
    match = np.array([list(AGENT_TYPES).index(a) for a in df["agent_type"]]) == np.array(
        [list(TASK_TYPES).index(t) for t in df["task_type"]]
    )
    hier = (df["topology"] == "hierarchical").to_numpy()
    logit = (
        4.0 * df["agent_skill"]
        - 0.45 * df["task_complexity"]
        + 2.0 * match
        - 0.45 * df["agent_load"]
        + 0.9 * hier * (df["task_complexity"] > 6)
        - 0.03 * df["swarm_size"]
        + 1.2
    ).to_numpy()
    p = _sigmoid(1.6 * logit)
    return p, (rng.random(n) < p)


def _prediction(rng, df: pd.DataFrame, drift) -> tuple[np.ndarray, np.ndarray]:
    n = len(df)
    df["input_size_mb"] = rng.lognormal(2, 1, n).round(2)
    df["dependencies"] = rng.poisson(3, n)
    df["retries_allowed"] = rng.integers(0, 4, n)
    df["cache_hit"] = rng.random(n) < 0.4
    logit = (
        3.5 * df["agent_skill"]
        - 0.5 * df["task_complexity"]
        - 0.35 * df["agent_load"]
        - 0.25 * df["dependencies"]
        + 0.5 * df["retries_allowed"]
        + 0.8 * df["cache_hit"]
        - 0.15 * np.log1p(df["input_size_mb"])
        + 2.2
    ).to_numpy()
    p = _sigmoid(1.8 * logit)
    success = rng.random(n) < p
    df["duration_ms"] = (
        200
        * df["task_complexity"]
        * (1 + 0.3 * df["agent_load"])
        * (1.5 - df["agent_skill"])
        * np.where(df["cache_hit"], 0.6, 1.0)
        * rng.lognormal(0, 0.25, n)
    ).round(0)
    return p, success


def _optimization(rng, df: pd.DataFrame, drift) -> tuple[np.ndarray, np.ndarray]:
    n = len(df)
    pressure = {
        "cpu": rng.beta(2, 4, n) + 0.15 * drift,
        "memory": rng.beta(2, 4, n),
        "io": rng.beta(2, 5, n),
        "agent_overload": rng.beta(2, 5, n) + 0.05 * df["agent_load"].to_numpy(),
        "slow_task": rng.beta(2, 5, n) + 0.03 * df["task_complexity"].to_numpy(),
    }
    # The metrics measure the pressures with a little instrument noise: the label noise (the
    # softmax below) is what bounds accuracy, not unobservable causes.
    df["cpu_percent"] = np.clip(100 * pressure["cpu"] + rng.normal(0, 1.5, n), 0, 100).round(1)
    df["memory_percent"] = np.clip(100 * pressure["memory"] + rng.normal(0, 1.5, n), 0, 100).round(1)
    df["io_wait_percent"] = np.clip(60 * pressure["io"] + rng.normal(0, 1, n), 0, 100).round(1)
    df["queue_length"] = np.round(25 * pressure["agent_overload"] + rng.normal(0, 0.5, n)).clip(0).astype(int)
    df["avg_task_duration_ms"] = (500 + 4000 * pressure["slow_task"] * rng.lognormal(0, 0.03, n)).round(0)
    names = list(pressure)
    stacked = np.column_stack([pressure[k] for k in names])
    # Softmax over pressures above the "healthy" level; "none" wins when nothing is high.
    scores = np.column_stack([np.full(n, 0.55), stacked]) * 30
    proba = np.exp(scores - scores.max(axis=1, keepdims=True))
    proba /= proba.sum(axis=1, keepdims=True)
    label_idx = (proba.cumsum(axis=1) > rng.random(n)[:, None]).argmax(axis=1)
    labels = np.array(["none", *names])
    return proba.max(axis=1), labels[label_idx]


def _security(rng, df: pd.DataFrame, drift) -> tuple[np.ndarray, np.ndarray]:
    n = len(df)
    categories = np.array(["secret", "injection", "xss", "dependency", "config", "crypto"])
    cat = categories[rng.choice(6, n, p=[0.1, 0.1, 0.15, 0.35, 0.2, 0.1])]
    weight = dict(zip(categories, [1.5, 1.2, 0.3, 0.0, -0.5, 0.4], strict=True))
    df["category"] = cat
    df["cvss_base"] = np.clip(rng.normal(5.5 + 0.8 * drift, 2, n), 0, 10).round(1)
    df["exploit_available"] = rng.random(n) < 0.25
    df["internet_facing"] = rng.random(n) < 0.35
    df["in_test_code"] = rng.random(n) < 0.2
    df["scanner_confidence"] = rng.beta(4, 2, n).round(3)
    df["age_days"] = rng.integers(0, 720, n)
    logit = (
        0.9 * (df["cvss_base"] - 6)
        + 1.6 * df["exploit_available"]
        + 1.3 * df["internet_facing"]
        - 2.0 * df["in_test_code"]
        + 2.0 * (df["scanner_confidence"] - 0.6)
        + np.vectorize(weight.get)(cat)
        - 0.5
    ).to_numpy()
    p = _sigmoid(2.2 * logit)
    return p, rng.random(n) < p


GENERATORS = {
    "coordination": _coordination,
    "optimization": _optimization,
    "prediction": _prediction,
    "security": _security,
}


def generate(
    *, pattern: str, rows: int, seed: int = 0, drift: bool = False, missing_share: float = 0.03
) -> tuple[pd.DataFrame, str]:
    """Simulate ``rows`` task records for ``pattern``.

    Returns:
        (frame, target column). ``frame.attrs["noise_ceiling"]`` is the accuracy of the true
        probabilities themselves: no model can do better on this data except by chance.
    """
    if pattern not in GENERATORS:
        raise DataError(f"unknown pattern {pattern!r}; expected one of {', '.join(GENERATORS)}", field="pattern")
    if rows < 20:
        raise DataError("rows must be at least 20", field="rows")
    rng = np.random.default_rng(seed)
    shifted = (np.arange(rows) >= rows // 2) if drift else np.zeros(rows, dtype=bool)
    df = _base(rng, rows, shifted.astype(float))
    p, label = GENERATORS[pattern](rng, df, shifted.astype(float))
    target = PATTERN_TARGETS[pattern]
    df[target] = label
    ceiling = float(np.mean(p)) if pattern == "optimization" else float(np.mean(np.maximum(p, 1 - p)))
    for col in ("agent_skill", "task_complexity"):
        df.loc[rng.random(rows) < missing_share, col] = np.nan
    df.attrs["noise_ceiling"] = round(ceiling, 4)
    return df, target
