from django.apps import AppConfig
from django.db.models.signals import post_delete


class TrainingConfig(AppConfig):
    name = "neural.training"
    label = "training"
    default_auto_field = "django.db.models.BigAutoField"

    def ready(self) -> None:
        from celery.signals import worker_ready

        from neural.training import heartbeat  # noqa: F401  (connects the worker signals)
        from neural.training.sweep import sweep_at_worker_start
        from photondrift.celery import ensure_broker_folders

        worker_ready.connect(sweep_at_worker_start, dispatch_uid="training-sweep-at-worker-start")

        post_delete.connect(_drop_study, sender=self.get_model("TuningJob"), dispatch_uid="training-drop-study")
        ensure_broker_folders()


def _drop_study(sender, instance, **_) -> None:
    """A deleted search (its model or version deleted) takes its Optuna study along. Imported
    here, not at start-up: Optuna and SQLAlchemy add about 0.6 s to every process's start."""
    from neural.training.tuning import study_drop_on_commit

    study_drop_on_commit(instance.study_name)
