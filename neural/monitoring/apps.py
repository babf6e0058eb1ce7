from django.apps import AppConfig


class MonitoringConfig(AppConfig):
    name = "neural.monitoring"
    label = "monitoring"
    default_auto_field = "django.db.models.BigAutoField"

    def ready(self) -> None:
        # lazy: the receivers and tasks import models, which load only once the app registry is ready
        from neural.monitoring import tasks  # noqa: F401  (registers the tasks the services enqueue by name)
        from neural.monitoring.receivers import connect

        connect()
