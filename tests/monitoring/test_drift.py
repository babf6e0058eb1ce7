"""Drift: fires on the generator's drift mode, stays quiet on same-distribution windows."""

from __future__ import annotations

import io
import json

import numpy as np
import pytest
from django.core.management import CommandError, call_command

from neural.datasets.generator import generate
from neural.engine.drift import build_profile, compare, drift_score
from neural.engine.schema import infer_schema
from neural.monitoring.models import DriftReport, ReferenceProfile
from tests.monitoring.conftest import serve


def _reference(rows: int = 4000, seed: int = 1):
    df, target = generate(pattern="coordination", rows=rows, seed=seed)
    return build_profile(df, infer_schema(df, target)), target


def test_it_profiles_numerics_by_quantile_bins_and_categoricals_by_frequency():
    profile, _ = _reference()
    kinds = {f["name"]: f for f in profile["features"]}
    assert kinds["task_complexity"]["kind"] == "numeric" and len(kinds["task_complexity"]["edges"]) >= 5
    assert set(kinds["task_type"]["categories"]) == {"code", "test", "review", "deploy", "research", "security_scan"}
    assert "timestamp" not in kinds  # datetimes move with time by nature
    for feature in profile["features"]:
        assert sum(feature["shares"]) == pytest.approx(1.0)


def test_it_fires_on_the_generators_drift_mode():
    drifted, target = generate(pattern="coordination", rows=4000, seed=2, drift=True)
    profile = build_profile(drifted.iloc[:2000], infer_schema(drifted, target))
    results = compare(profile, drifted.iloc[2000:])
    flagged = {r.name for r in results if r.drifted}
    assert {"agent_load", "task_complexity", "task_type"} <= flagged
    assert drift_score(results) > 0.3


def test_it_stays_quiet_on_same_distribution_windows_of_any_size():
    profile, _ = _reference()
    stream, _ = generate(pattern="coordination", rows=60_000, seed=99)
    rng = np.random.default_rng(0)
    sizes = rng.choice([30, 100, 300, 1000, 3000], size=200)
    starts = rng.integers(0, len(stream) - 3000, size=200)
    alarms = [
        any(r.drifted for r in compare(profile, stream.iloc[s : s + n])) for s, n in zip(starts, sizes, strict=True)
    ]
    assert np.mean(alarms) <= 0.05, f"false-alarm rate {np.mean(alarms):.3f} over {len(alarms)} windows"


def test_small_windows_get_wider_thresholds():
    profile, _ = _reference()
    stream, _ = generate(pattern="coordination", rows=5000, seed=5)
    small = compare(profile, stream.iloc[:40])[0]
    large = compare(profile, stream.iloc[:4000])[0]
    assert small.psi_threshold > large.psi_threshold


def test_registration_stores_the_profile_and_calibration(version):
    reference = ReferenceProfile.objects.get(model_version=version)
    assert reference.profile["rows"] == version.split["train_rows"]
    assert reference.calibration["rows"] == version.split["val_rows"]
    assert len(reference.calibration["accuracy"]) == len(reference.calibration["edges"]) + 1


def test_the_api_and_cli_report_drift_on_served_inputs(api, version, fresh_rows):
    serve(version, fresh_rows)
    res = api.get("/api/v1/neural/drift", {"model": "coord-model", "window": "1d"})
    assert res.status_code == 200, res.json()
    body = res.json()
    assert set(body) == {"model", "version", "window", "rows", "drift_score", "drifted", "features"}
    assert body["rows"] == len(fresh_rows) and body["drifted"] is False
    assert set(body["features"][0]) == {"name", "method", "value", "threshold", "drifted"}
    assert not DriftReport.objects.exists()  # a GET reads; it records nothing

    shifted, _ = generate(pattern="coordination", rows=600, seed=4, drift=True)
    serve(version, shifted.iloc[300:])
    out = io.StringIO()
    call_command("neural", "drift-detection", "--model", "coord-model", "--window", "1d", "--json", stdout=out)
    doc = json.loads(out.getvalue())
    assert doc["rows"] == 600 and doc["drifted"] is True and doc["drift_score"] > 0
    assert DriftReport.objects.get().drifted is True  # the CLI's check is recorded


def test_it_refuses_a_threshold_outside_0_1(api, version):
    res = api.get("/api/v1/neural/drift", {"model": "coord-model", "threshold": "1.5"})
    assert res.status_code == 400 and "threshold" in res.json()["fields"]
    with pytest.raises(CommandError) as err:
        call_command("neural", "drift-detection", "--model", "coord-model", "--threshold", "-0.1")
    assert err.value.returncode == 2
