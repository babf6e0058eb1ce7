from __future__ import annotations

from datetime import timedelta
from pathlib import Path

import pytest
from django.conf import settings
from django.utils import timezone

from neural.datasets.services import dataset_load_frame
from neural.engine.callbacks import Callback
from neural.engine.config import TrainConfig
from neural.engine.errors import StopTraining
from neural.engine.pipeline import train_tabular
from neural.engine.schema import ColumnSpec, TaskKind
from neural.training.models import EpochMetric, TrainingSession
from neural.training.progress import SessionProgress
from neural.training.services import (
    SessionBusy,
    training_session_claim,
    training_session_create,
    training_session_run,
)


class StopAfter(Callback):
    def __init__(self, epochs: int) -> None:
        self.seen, self.epochs = 0, epochs

    def on_epoch_end(self, state) -> None:
        self.seen += 1

    def should_stop(self) -> bool:
        return self.seen >= self.epochs


@pytest.fixture
def session(dataset, user):
    return training_session_create(
        user=user,
        dataset=dataset,
        pattern="coordination",
        config=TrainConfig(epochs=5, early_stopping=False),
        enqueue=False,
    )


def _die_after(session: TrainingSession, epochs: int) -> None:
    """A worker that claimed the session, trained ``epochs`` epochs with checkpoints, then died."""
    TrainingSession.objects.filter(pk=session.pk).update(
        status="running", claimed_by="dead-worker", heartbeat_at=timezone.now(), started_at=timezone.now()
    )
    session.refresh_from_db()
    with pytest.raises(StopTraining):
        train_tabular(
            dataset_load_frame(session.dataset),
            session.dataset.target,
            config=TrainConfig.from_dict(session.config),
            columns=[ColumnSpec.from_dict(c) for c in session.dataset.schema],
            task=TaskKind(session.dataset.task),
            callbacks=[SessionProgress(session), StopAfter(epochs)],
            checkpoint_dir=Path(settings.PHOTONDRIFT_HOME) / "checkpoints" / str(session.pk),
        )
    TrainingSession.objects.filter(pk=session.pk).update(heartbeat_at=timezone.now() - timedelta(minutes=5))


def test_it_resumes_a_session_whose_worker_died_from_its_last_epoch(session):
    _die_after(session, 2)
    done = training_session_run(session_id=session.pk, ran_in="worker-2")
    assert done.status == "succeeded", done.error
    assert done.resumed_count == 1 and done.ran_in == "worker-2"
    assert list(EpochMetric.objects.filter(session=done).values_list("epoch", flat=True)) == [1, 2, 3, 4, 5]
    messages = list(done.log_lines.values_list("message", flat=True))
    assert any("resuming in worker-2 from its last checkpoint" in m for m in messages)
    assert not (Path(settings.PHOTONDRIFT_HOME) / "checkpoints" / str(session.pk)).exists()


def test_it_leaves_a_session_held_by_a_live_worker_alone(session):
    TrainingSession.objects.filter(pk=session.pk).update(
        status="running", claimed_by="live-worker", heartbeat_at=timezone.now()
    )
    with pytest.raises(SessionBusy):
        training_session_run(session_id=session.pk, ran_in="worker-2")
    session.refresh_from_db()
    assert session.claimed_by == "live-worker" and session.resumed_count == 0


def test_only_one_of_two_claims_takes_over_a_stale_session(session):
    TrainingSession.objects.filter(pk=session.pk).update(
        status="running", claimed_by="dead", heartbeat_at=timezone.now() - timedelta(minutes=5)
    )
    checkpoints = Path(settings.PHOTONDRIFT_HOME) / "checkpoints" / str(session.pk)
    checkpoints.mkdir(parents=True)
    (checkpoints / "checkpoint.json").write_text("{}")  # the dead worker got past its first epoch
    first, resumed = training_session_claim(session_id=session.pk, token="a")
    assert resumed and first.claimed_by == "a"
    with pytest.raises(SessionBusy):
        training_session_claim(session_id=session.pk, token="b")


def test_a_redelivered_message_for_a_finished_session_is_a_no_op(session):
    done = training_session_run(session_id=session.pk, ran_in="w1")
    again = training_session_run(session_id=session.pk, ran_in="w2")
    assert again.status == "succeeded" and again.ran_in == "w1"
    assert again.model_version_id == done.model_version_id


def test_backup_true_from_the_api_is_stored_as_a_folder_like_the_file_does():
    from neural.training.services import training_config_build

    config = training_config_build(options={"model_storage": {"backup": True}}, from_request=True)
    assert config.model_storage["backup"] == "backups"


def test_the_session_keeps_the_options_its_task_chose(session):
    assert session.config["norm"] is None  # left to the task when created
    finished = training_session_run(session_id=session.pk, ran_in="test")
    assert finished.status == "succeeded", finished.error
    # The default network (TabM) chose no normalisation and no dropout.
    assert finished.config["norm"] == "none" and finished.config["dropout"] == 0.0
    assert finished.config["architecture"] == "tabm" and finished.config["hidden_sizes"] == [64, 64]
    assert TrainingSession.objects.get(pk=session.pk).config["norm"] == "none"


def test_a_split_data_sets_validation_rows_are_the_models_test_rows(dataset, user):
    from neural.datasets.versions import dataset_split

    split = dataset_split(dataset=dataset, validation_ratio=0.25, time_column="timestamp")
    session = training_session_create(
        user=user, dataset=split, pattern="coordination", config=TrainConfig(epochs=2), enqueue=False
    )
    version = training_session_run(session_id=session.pk, ran_in="test").model_version
    assert version.split["test_rows_from"] == "data set split"
    assert version.split["test_rows"] == split.split["validation_rows"] == 100
    assert version.split["train_rows"] + version.split["val_rows"] == split.split["train_rows"]


def test_the_migration_names_the_mlp_in_configs_recorded_before_tabm_became_the_default(dataset):
    import importlib

    from django.apps import apps

    migration = importlib.import_module("neural.training.migrations.0015_configs_name_their_architecture")
    old = {k: v for k, v in TrainConfig(architecture="mlp").to_dict().items() if k != "architecture"}
    rows = {
        name: TrainingSession.objects.create(
            dataset=dataset, pattern="coordination", model_name=name, config=config, epochs=3
        )
        for name, config in (("old", old), ("tabm", TrainConfig().to_dict()), ("bare", {"epochs": 3}))
    }
    migration.name_the_mlp(apps, None)
    got = {name: TrainingSession.objects.get(pk=row.pk).config for name, row in rows.items()}
    assert got["old"] == {**old, "architecture": "mlp"}
    assert TrainConfig.from_dict(got["old"]).architecture == "mlp" and got["old"]["hidden_sizes"] == [256, 128]
    assert got["tabm"]["architecture"] == "tabm" and got["bare"] == {"epochs": 3}  # left alone
