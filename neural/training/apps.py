from django.apps import AppConfig


class TrainingConfig(AppConfig):
    name = "neural.training"
    label = "training"
    default_auto_field = "django.db.models.BigAutoField"

    def ready(self) -> None:
        from neural.training import (
            heartbeat,  # noqa: F401  (connects the worker signals)
            tuning,  # noqa: F401  (a deleted search drops its Optuna study)
        )
        from photondrift.celery import ensure_broker_folders

        ensure_broker_folders()
