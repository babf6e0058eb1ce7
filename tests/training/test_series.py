from __future__ import annotations

import math

import pytest

from neural.engine.config import TrainConfig
from neural.training import series
from neural.training.models import EpochMetric, EpochSummary, TrainingSession


def curve(epoch: int, spike_at: int | None = None) -> dict:
    loss = 1.0 / math.sqrt(epoch) + (5.0 if epoch == spike_at else 0.0)
    return {"train_loss": loss, "val_loss": loss * 1.1, "val_accuracy": 1 - loss / 2, "lr": 0.001}


def make_session(dataset, n: int, *, spike_at: int | None = None, incremental: bool = False) -> TrainingSession:
    session = TrainingSession.objects.create(
        dataset=dataset,
        pattern="coordination",
        model_name="m",
        config=TrainConfig(epochs=n).to_dict(),
        epochs=n,
        epoch=n,
    )
    rows = []
    for e in range(1, n + 1):
        m = curve(e, spike_at)
        rows.append(
            EpochMetric(
                session=session,
                epoch=e,
                train_loss=m["train_loss"],
                val_loss=m["val_loss"],
                lr=0.001,
                elapsed_s=e,
                metrics=m,
            )
        )
        if incremental:
            series.epoch_summaries_update(session_id=session.pk, epoch=e, metrics=m)
    EpochMetric.objects.bulk_create(rows, batch_size=5000)
    if not incremental:
        series.epoch_summaries_rebuild(session_id=session.pk)
    return session


def test_it_returns_every_epoch_of_a_range_shorter_than_max_points(dataset):
    session = make_session(dataset, 50)
    got = series.epoch_range_series(session=session, lo=11, hi=20, max_points=100)
    assert got["resolution"] == 1
    assert got["series"]["val_loss"]["x"] == list(range(11, 21))
    assert got["series"]["val_loss"]["y"] == [curve(e)["val_loss"] for e in range(11, 21)]


def test_it_keeps_a_one_epoch_spike_when_it_downsamples_from_summaries(dataset):
    session = make_session(dataset, 9_000, spike_at=6_345)
    got = series.epoch_range_series(session=session, lo=1, hi=9_000, max_points=400)
    assert got["source_width"] > 1 and got["resolution"] == 90
    loss = got["series"]["train_loss"]
    assert len(loss["x"]) <= 400 and loss["x"] == sorted(set(loss["x"]))
    assert loss["x"][0] == 1 and loss["x"][-1] == 9_000
    assert loss["y"][loss["x"].index(6_345)] == curve(6_345, 6_345)["train_loss"]
    assert max(loss["y"]) == curve(6_345, 6_345)["train_loss"]


def test_it_reads_a_zoomed_range_whole_and_only_that_range(dataset):
    session = make_session(dataset, 9_000, spike_at=6_345)
    got = series.epoch_range_series(session=session, lo=6_300, hi=6_400, max_points=2000, keys={"val_loss"})
    assert set(got["series"]) == {"val_loss"}
    assert got["series"]["val_loss"]["x"] == list(range(6_300, 6_401))


def test_it_keeps_the_same_summaries_epoch_by_epoch_as_a_rebuild(dataset):
    live = make_session(dataset, 300, spike_at=77, incremental=True)
    stored = {(r.width, r.block): (r.first_epoch, r.last_epoch, r.stats) for r in live.epoch_summaries.all()}
    series.epoch_summaries_rebuild(session_id=live.pk)
    rebuilt = {(r.width, r.block): (r.first_epoch, r.last_epoch, r.stats) for r in live.epoch_summaries.all()}
    assert stored == rebuilt
    assert EpochSummary.objects.filter(session=live, width=16).count() == math.ceil(300 / 16)


@pytest.mark.parametrize("bad", [{"max_points": "3"}, {"from": "x"}, {"from": "9", "to": "2"}, {"keys": ","}])
def test_it_refuses_a_bad_range_naming_the_field(api, dataset, bad):
    session = make_session(dataset, 10)
    res = api.get(f"/api/v1/neural/train/{session.pk}/metrics", bad)
    assert res.status_code == 400
    assert set(res.json()["fields"]) <= {"max_points", "from", "keys"} and res.json()["fields"]


def test_it_answers_the_downsampled_range_and_the_catch_up_over_the_api(api, dataset):
    session = make_session(dataset, 5000, spike_at=4321)
    body = api.get(f"/api/v1/neural/train/{session.pk}/metrics", {"max_points": 100}).json()
    assert body["first"] == 1 and body["last"] == 5000 and body["resolution"] == 200
    assert 4321 in body["series"]["train_loss"]["x"] and body["epochs"] == []
    after = api.get(f"/api/v1/neural/train/{session.pk}/metrics", {"after": 4990}).json()
    assert [e["epoch"] for e in after["epochs"]] == list(range(4991, 5001)) and after["more"] is False


def test_the_migration_folds_the_added_levels_as_a_rebuild_makes_them(dataset):
    import importlib

    from django.apps import apps

    levels = importlib.import_module("neural.training.migrations.0014_summary_levels")
    session = make_session(dataset, 5_000, spike_at=1_234)
    added = EpochSummary.objects.filter(session=session, width__in=list(levels.ADDED))
    want = {(r.width, r.block): (r.first_epoch, r.last_epoch, r.stats) for r in added}
    assert {w for w, _ in want} == set(levels.ADDED) and len(want) == 79 + 5 + 1
    added.delete()
    levels.add_levels(apps, None)
    got = {(r.width, r.block): (r.first_epoch, r.last_epoch, r.stats) for r in added.all()}
    assert got == want
