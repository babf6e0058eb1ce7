from django.apps import AppConfig
from django.db.models.signals import post_delete


class TrainingConfig(AppConfig):
    name = "neural.training"
    label = "training"
    default_auto_field = "django.db.models.BigAutoField"

    def ready(self) -> None:
        # lazy: these import models, which load only once the app registry is ready
        from celery.signals import worker_init, worker_ready, worker_shutdown

        from neural.training import heartbeat
        from neural.training.sweep import sweep_at_worker_start
        from photondrift.celery import ensure_broker_folders

        worker_init.connect(heartbeat.start_heartbeat, dispatch_uid="training-heartbeat-start")
        worker_shutdown.connect(heartbeat.stop_heartbeat, dispatch_uid="training-heartbeat-stop")
        worker_ready.connect(sweep_at_worker_start, dispatch_uid="training-sweep-at-worker-start")
        post_delete.connect(_drop_study, sender=self.get_model("TuningJob"), dispatch_uid="training-drop-study")
        ensure_broker_folders()


def _drop_study(sender, instance, **_) -> None:
    """A deleted search (its model or version deleted) takes its Optuna study along."""
    # lazy: Optuna and SQLAlchemy add about 0.6 s to every process's start
    from neural.training.tuning import study_drop_on_commit

    study_drop_on_commit(instance.study_name)
