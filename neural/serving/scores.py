"""The score a pattern defines on top of the class probabilities.

- security: a risk from 0 to 100, the probability of the positive (risky) class times 100; for a
  severity scale (low < medium < high < critical) the expected severity on a 0-100 scale.
- coordination: the probability of success, from 0 to 1.
Other patterns, and regressions, have no score.
"""

from __future__ import annotations

POSITIVE = {"true", "1", "yes", "y", "success", "succeeded", "malicious", "high_risk", "risky", "positive"}
SEVERITY = ["info", "low", "medium", "high", "critical"]


def positive_class(keys: list[str]) -> str | None:
    """The positive label of a binary problem: a known positive name, else the last sorted one."""
    if len(keys) != 2:
        return None
    named = [k for k in keys if k.strip().lower() in POSITIVE]
    return named[0] if len(named) == 1 else keys[-1]


def _severity_risk(probabilities: dict[str, float]) -> float | None:
    ranks = {k: SEVERITY.index(k.lower()) for k in probabilities if k.lower() in SEVERITY}
    if len(ranks) != len(probabilities) or len(ranks) < 2:
        return None
    low, high = min(ranks.values()), max(ranks.values())
    expected = sum(p * (ranks[k] - low) / (high - low) for k, p in probabilities.items())
    return round(100 * expected, 2)


def _positive_score(pattern: str, probability: float) -> float:
    """The score of a binary problem from its positive class's probability."""
    return round(100 * probability, 2) if pattern == "security" else round(probability, 6)


def score_for(pattern: str, probabilities: dict[str, float] | None) -> float | None:
    if not probabilities:
        return None
    keys = list(probabilities)
    positive = positive_class(keys)
    if pattern == "security":
        if positive is not None:
            return _positive_score(pattern, probabilities[positive])
        return _severity_risk(probabilities)
    if pattern == "coordination" and positive is not None:
        return _positive_score(pattern, probabilities[positive])
    return None


def score_column(pattern: str, keys: list[str], rows: list[list[float]]) -> list[float] | None:
    """``score_for`` of every row of probabilities (each in ``keys`` order), for a whole batch.

    Whether a pattern gives a score depends on the class names only, so it is decided once;
    the binary scores then take one column, scaled and rounded by ``score_for``'s rule.
    """
    if not rows or score_for(pattern, dict(zip(keys, rows[0], strict=True))) is None:
        return None
    positive = positive_class(keys)
    if positive is None:  # a severity scale: the expected severity, row by row
        return [score_for(pattern, dict(zip(keys, p, strict=True))) for p in rows]
    j = keys.index(positive)
    return [_positive_score(pattern, p[j]) for p in rows]
