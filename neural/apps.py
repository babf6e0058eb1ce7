from django.apps import AppConfig
from django.db.models.signals import post_migrate


class NeuralConfig(AppConfig):
    """Hosts the `neural`, `training` and `data` management commands and the periodic tasks."""

    name = "neural"
    default_auto_field = "django.db.models.BigAutoField"

    def ready(self) -> None:
        # Sent once per app with models after the whole migrate; the beat app's is the one to use
        # (this app has no models, so Django sends it none).
        post_migrate.connect(_ensure_after_migrate, dispatch_uid="neural-periodic-tasks")


def _ensure_after_migrate(sender, **kwargs) -> None:
    if sender.label == "django_celery_beat":
        # lazy: periodic imports django_celery_beat's models, loaded only once apps are ready
        from neural.periodic import periodic_tasks_ensure

        periodic_tasks_ensure()
