"""The quality report finds what was planted: duplicates, PII and secrets, leakage, outliers, constants."""

from __future__ import annotations

import json
from io import StringIO

import numpy as np
import pandas as pd
import pytest
from django.core.management import call_command

from neural.datasets.quality import REDACTED, quality_report, redact_findings, sample_positions
from neural.datasets.services import dataset_store_frame

SECRET_VALUES = ["alice@example.com", "10.20.30.40", "4111 1111 1111 1111", "AKIAIOSFODNN7EXAMPLE"]


def planted(n: int = 300) -> pd.DataFrame:
    rng = np.random.default_rng(1)
    df = pd.DataFrame(
        {
            "load": rng.normal(50, 5, n).round(4),
            "queue": rng.choice(["a", "b", "c"], n),
            "region": "eu",  # constant
            "ok": rng.random(n) < 0.3,
        }
    )
    df["status_text"] = np.where(df["ok"], "passed", "failed")  # leaks the target
    df.loc[:4, "load"] = [900.0, 950.0, -700.0, 1000.0, 880.0]  # five outliers
    notes = pd.Series(["routine run"] * n)
    notes[10:17] = ["mail alice@example.com for access"] * 7
    notes[20:23] = ["host 10.20.30.40 was slow"] * 3
    notes[30:32] = ["paid with 4111 1111 1111 1111"] * 2
    notes[40] = "key AKIAIOSFODNN7EXAMPLE leaked"
    notes[41] = "token 9fQ2xL7pR4mZ8vK1sT6wY3bN5cH0jD2e in log"
    notes[50:53] = ["call +1 415-555-0132 tomorrow"] * 3
    df["notes"] = notes
    dupes = df.iloc[100:112].copy()
    return pd.concat([df, dupes], ignore_index=True)  # twelve duplicate rows


def test_it_finds_every_planted_problem():
    report = quality_report(planted(), target="ok")
    assert report["rows"] == 312 and report["columns"] == 6
    assert report["duplicates"]["count"] == 12
    assert report["outliers"]["load"]["count"] == 5
    pii = {(p["column"], p["kind"]): p["count"] for p in report["pii"]}
    assert pii[("notes", "email")] == 7
    assert pii[("notes", "ip_address")] == 3
    assert pii[("notes", "credit_card")] == 2
    assert pii[("notes", "api_key")] == 1
    assert pii[("notes", "secret_token")] == 1
    assert pii[("notes", "phone")] == 3
    warnings = {(w["column"], w["kind"]) for w in report["warnings"]}
    assert ("status_text", "leakage") in warnings and ("region", "constant") in warnings
    assert not any(w["column"] in ("load", "queue") and w["kind"] == "leakage" for w in report["warnings"])
    shares = {k: v["share"] for k, v in report["class_balance"].items()}
    assert set(shares) == {"True", "False"} and shares["False"] > shares["True"]
    assert report["missing"]["load"] == 0.0
    text = json.dumps(report)
    assert not any(secret in text for secret in SECRET_VALUES)


def test_it_reports_nothing_on_clean_data():
    rng = np.random.default_rng(2)
    df = pd.DataFrame({"x": rng.normal(size=200), "c": rng.choice(["a", "b"], 200), "y": rng.random(200) < 0.5})
    report = quality_report(df, target="y")
    assert report["pii"] == [] and report["duplicates"]["count"] == 0
    assert [w for w in report["warnings"] if w["kind"] == "leakage"] == []


@pytest.fixture
def stored(db):
    return dataset_store_frame(df=planted(), name="planted", target="ok", pattern="security", source_format="csv")


def test_the_cli_and_api_show_the_stored_report(stored, api):
    out = StringIO()
    call_command("data", "quality-check", "--dataset", "planted", "--json", stdout=out)
    body = json.loads(out.getvalue())
    assert body["duplicates"]["count"] == 12 and {"column": "notes", "kind": "email", "count": 7} in body["pii"]
    for key in ("rows", "columns", "missing", "duplicates", "class_balance", "outliers", "pii", "warnings"):
        assert key in body
    out = StringIO()
    call_command("data", "analyze", "--dataset", str(stored.pk), "--quality-report", "--json", stdout=out)
    assert json.loads(out.getvalue())["quality"]["outliers"]["load"]["count"] == 5
    res = api.get(f"/api/v1/neural/datasets/{stored.pk}/quality")
    assert res.status_code == 200 and res.json()["duplicates"]["count"] == 12
    assert api.get("/api/v1/neural/datasets/99999/quality").status_code == 404
    out = StringIO()
    call_command("data", "quality-check", "--dataset", "planted", stdout=out)
    assert "email x7" in out.getvalue() and "alice@" not in out.getvalue()


def test_it_counts_distinct_values_and_classes_without_text_alike():
    from neural.datasets.quality import _class_balance, _count_distinct, _distribution

    rng = np.random.default_rng(3)
    ints = pd.Series(rng.integers(-5, 7, 500))
    wide = pd.Series(rng.integers(-(2**62), 2**62, 500))
    stamps = pd.Series(pd.to_datetime(rng.integers(0, 9, 500), unit="D")).where(rng.random(500) > 0.2)
    # Two instants an hour apart share a wall-clock time on the night the clocks go back.
    zoned = pd.Series(pd.to_datetime(rng.integers(0, 9, 500) * 1800 + 1_667_089_800, unit="s", utc=True))
    zoned = zoned.dt.tz_convert("Europe/Berlin").where(rng.random(500) > 0.2)
    for series in (ints, wide, stamps, zoned):
        assert _count_distinct(series) == series.nunique(dropna=True)
    assert _count_distinct(pd.Series(pd.to_datetime([None, None]))) == 0
    ties = pd.Series(np.repeat(np.arange(10), 50)[rng.permutation(500)])
    flags = pd.Series(rng.random(500) < 0.4)
    for y in (ties, flags, ints.astype("Int64").where(ints > -4)):
        text = y.astype(str).where(y.notna()).value_counts(dropna=True)
        balance = _class_balance(y, 20)
        assert list(balance) == list(text.index) and [v["count"] for v in balance.values()] == text.tolist()
    missing = pd.Series([1.0, np.nan, np.inf, 2.0, -np.inf, 3.0])
    counts, edges = np.histogram([1.0, 2.0, 3.0], bins=20)
    assert _distribution(missing) == {
        "type": "histogram",
        "counts": counts.tolist(),
        "edges": [round(float(e), 6) for e in edges],
    }
    assert _distribution(pd.Series([np.nan, np.inf])) == {"type": "empty"}


def test_histograms_and_distinct_counts_read_off_the_sorted_values_equal_numpys_and_pandas():
    from neural.datasets.quality import _count_distinct, _distribution, _sample_positions_for, _sorted_present

    rng = np.random.default_rng(5)
    cases = [
        rng.normal(0, 1, 20_000),
        rng.exponential(3, 20_000).round(2),  # ties on the bin edges
        rng.integers(-5, 5, 1000),
        rng.integers(-(2**62), 2**62, 1000),
        np.full(10, 3.0),  # one value: numpy widens the range by 0.5 each side
        np.r_[rng.normal(0, 1, 1000).round(1), np.nan, np.inf, -np.inf, -0.0, 0.0],
    ]
    for values in cases:
        series = pd.Series(values)
        finite = values[np.isfinite(values)].astype(float)
        counts, edges = np.histogram(finite, bins=20)
        assert _distribution(series, _sorted_present(series)) == {
            "type": "histogram",
            "counts": counts.tolist(),
            "edges": [round(float(e), 6) for e in edges],
        }
        assert _count_distinct(series) == series.nunique(dropna=True)
    for rows in (10, 30_000, 60_000):  # both samples from one draw are the ones drawn apart
        pair = _sample_positions_for(rows, 50_000, 20_000)
        for got, size in zip(pair, (50_000, 20_000), strict=True):
            want = sample_positions(rows, size)
            assert (got is None and want is None) or (got == want).all()


def test_redaction_removes_exactly_what_the_report_finds():
    notes = planted()["notes"].astype("string")
    extra = pd.Series(
        [
            "order 1234567890123 shipped",  # 13 digits failing the Luhn check: not a card
            "id 12345678901234567890123456789012",  # 32 digits, no letters: not a token
            "secret aBcDeFgHiJkLmNoPqRsTuVwXyZ012345",  # 32 mixed, high entropy: a token
        ],
        dtype="string",
    )
    text = pd.concat([notes, extra], ignore_index=True)
    redacted = redact_findings(text)
    assert quality_report(pd.DataFrame({"notes": redacted.astype(object), "ok": 1}), target=None)["pii"] == []
    assert redacted.iloc[-3] == "order 1234567890123 shipped"
    assert redacted.iloc[-2] == "id 12345678901234567890123456789012"
    assert redacted.iloc[-1] == f"secret {REDACTED}"
    assert redacted.iloc[30] == f"paid with {REDACTED}" and redacted.iloc[0] == "routine run"


def test_it_reports_a_constant_16_digit_integer_column(api):
    """Floats near 1e15 are 0.25 apart: numpy cannot cut one value's widened range into 20 bins."""
    from neural.datasets.models import Dataset
    from tests.factories import train_here

    rows = "".join(f"1234567890123456,{1234567890123456 + i % 2},{i % 5},{i % 2}\n" for i in range(60))
    data = {"name": "wide", "target": "ok", "file": StringIO("id,near,load,ok\n" + rows)}
    data["file"].name = "wide.csv"
    res = api.post("/api/v1/neural/datasets", data, format="multipart")
    assert res.status_code == 201, res.content
    distributions = Dataset.objects.get(name="wide").quality["distributions"]
    for name in ("id", "near"):
        histogram = distributions[name]
        assert histogram["type"] == "histogram" and sum(histogram["counts"]) == 60, histogram
        assert histogram["edges"][0] <= 1234567890123456 <= histogram["edges"][-1]
    train_here(dataset=Dataset.objects.get(name="wide"), model_name="wide-model", epochs=2)
