from django.apps import AppConfig


class NeuralConfig(AppConfig):
    """Hosts the `neural`, `training` and `data` management commands."""

    name = "neural"
    default_auto_field = "django.db.models.BigAutoField"
