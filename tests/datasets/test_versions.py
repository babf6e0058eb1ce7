"""prepare / augment / split make new immutable versions with a parent link; schema overrides."""

from __future__ import annotations

import json
from io import StringIO

import numpy as np
import pandas as pd
import pytest
from django.core.management import call_command
from django.core.management.base import CommandError

from neural.datasets.models import Dataset
from neural.datasets.services import SPLIT_COLUMN, dataset_load_frame, dataset_store_frame


def cli(*args):
    out = StringIO()
    call_command(*args, "--json", stdout=out)
    return json.loads(out.getvalue())


@pytest.fixture
def messy(db):
    rng = np.random.default_rng(0)
    n = 200
    df = pd.DataFrame(
        {
            "row_id": np.arange(1000, 1000 + n),
            "load": rng.normal(10, 2, n).round(5),
            "queue": rng.choice(["a", "b", "c"], n),
            "contact": ["ops@example.com" if i % 10 == 0 else "none" for i in range(n)],
            "when": pd.date_range("2026-01-01", periods=n, freq="h").strftime("%Y-%m-%dT%H:%M:%SZ"),
            "ok": rng.random(n) < 0.2,
        }
    )
    df.loc[5:14, "load"] = np.nan
    df.loc[20:24, ["load", "queue", "contact", "when"]] = np.nan
    df = pd.concat([df, df.iloc[50:58]], ignore_index=True)
    return dataset_store_frame(df=df, name="messy", target="ok", pattern="prediction", source_format="csv")


def test_prepare_cleans_into_a_child_version(messy):
    body = cli("data", "prepare", "--source", "messy", "--clean", "--validate", "--redact-pii")
    child = Dataset.objects.get(name="messy", version=2)
    assert body["parent"] == "messy:v1" and child.parent == messy and child.sha256 != messy.sha256
    summary = child.operation["summary"]
    assert summary["duplicates_dropped"] == 8 and summary["empty_rows_dropped"] == 5
    assert summary["cells_imputed"] == 10 and summary["redacted_cells"] == 19
    df = dataset_load_frame(child)
    assert len(df) == 208 - 13 and df["load"].notna().all()
    assert not df["contact"].str.contains("@").any()
    assert child.quality["pii"] == []


def test_augment_oversamples_the_minority_from_training_rows_only(messy):
    split = cli("data", "split", "--dataset", "messy", "--validation-ratio", "0.25", "--stratify")
    assert split["version"] == 2 and split["parent"] == "messy:v1"
    before = dataset_load_frame(Dataset.objects.get(name="messy", version=2))
    body = cli("data", "augment", "--dataset", "messy:v2", "--factor", "2")
    after = dataset_load_frame(Dataset.objects.get(name="messy", version=3))
    assert body["parent"] == "messy:v2"
    added = after.iloc[len(before) :]
    minority = before[before[SPLIT_COLUMN] == "train"]["ok"].sum()
    assert len(added) == minority and added["ok"].all() and (added[SPLIT_COLUMN] == "train").all()
    val = before[before[SPLIT_COLUMN] == "validation"]
    assert not added["load"].dropna().isin(val["load"].dropna()).any()


def test_split_by_time_puts_the_latest_rows_in_validation(messy):
    cli("data", "split", "--dataset", "messy", "--validation-ratio", "0.2", "--time-column", "when")
    ds = Dataset.objects.get(name="messy", version=2)
    df = dataset_load_frame(ds)
    val = pd.to_datetime(df.loc[df[SPLIT_COLUMN] == "validation", "when"])
    train = pd.to_datetime(df.loc[df[SPLIT_COLUMN] == "train", "when"])
    assert val.min() >= train.max() and ds.split["validation_rows"] == round(len(df) * 0.2)
    spec = next(c for c in ds.schema if c["name"] == SPLIT_COLUMN)
    assert spec["excluded"]


def test_stratified_split_keeps_class_shares(messy):
    cli("data", "split", "--dataset", "messy", "--validation-ratio", "0.3", "--stratify")
    df = dataset_load_frame(Dataset.objects.get(name="messy", version=2))
    shares = df.groupby(SPLIT_COLUMN)["ok"].mean()
    assert abs(shares["train"] - shares["validation"]) < 0.03


def test_list_json_prints_the_documented_keys(messy):
    rows = cli("data", "list")
    assert rows == [
        {
            "name": "messy",
            "version": 1,
            "rows": 208,
            "target": "ok",
            "task": "binary",
            "pattern": "prediction",
            "sha256": messy.sha256,
        }
    ]


def test_identifier_columns_are_excluded_and_overrides_stick(messy, api):
    spec = {c["name"]: c for c in messy.schema}
    assert spec["row_id"]["excluded"] and spec["row_id"]["reason"].startswith("identifier")
    res = api.patch(
        f"/api/v1/neural/datasets/{messy.pk}",
        {"schema": {"queue": {"excluded": True}, "row_id": {"excluded": False, "kind": "categorical"}}},
        format="json",
    )
    assert res.status_code == 200, res.json()
    spec = {c["name"]: c for c in res.json()["schema"]}
    assert spec["queue"]["excluded"] and not spec["row_id"]["excluded"] and spec["row_id"]["kind"] == "categorical"
    before = {c["name"]: c for c in messy.schema}
    assert all(spec[n] == before[n] for n in ("load", "contact", "when", "ok"))  # re-inferred alike from the file
    body = cli("data", "schema", "--dataset", "messy", "--column", "load", "--kind", "categorical")
    assert body["column"]["kind"] == "categorical"
    child = cli("data", "split", "--dataset", "messy", "--validation-ratio", "0.2")
    kept = {c["name"]: c for c in Dataset.objects.get(name="messy", version=child["version"]).schema}
    assert kept["queue"]["excluded"] and kept["load"]["kind"] == "categorical"


@pytest.mark.parametrize(
    ("patch", "field"),
    [
        ({"schema": {"nope": {"excluded": True}}}, "schema.nope"),
        ({"schema": {"load": {"kind": "astrology"}}}, "schema.load"),
        ({"schema": {"ok": {"excluded": True}}}, "schema.ok"),
    ],
)
def test_bad_overrides_are_400_naming_the_column(messy, api, patch, field):
    res = api.patch(f"/api/v1/neural/datasets/{messy.pk}", patch, format="json")
    assert res.status_code == 400 and field in res.json()["fields"], res.json()


@pytest.mark.parametrize(
    ("args", "message"),
    [
        (["data", "augment", "--dataset", "messy", "--factor", "1"], "greater than 1"),
        (["data", "split", "--dataset", "messy", "--validation-ratio", "1.5"], "between 0 and 1"),
        (["data", "split", "--dataset", "messy", "--validation-ratio", "0.2", "--time-column", "x"], "no column"),
        (["data", "prepare", "--source", "ghost", "--clean"], "does not exist"),
        (["data", "quality-check", "--dataset", "ghost"], "does not exist"),
    ],
)
def test_bad_version_requests_exit_2(messy, args, message):
    with pytest.raises(CommandError, match=message) as err:
        call_command(*args)
    assert err.value.returncode == 2 and Dataset.objects.count() == 1
