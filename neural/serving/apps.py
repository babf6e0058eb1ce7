from django.apps import AppConfig


class ServingConfig(AppConfig):
    name = "neural.serving"
    label = "serving"
    default_auto_field = "django.db.models.BigAutoField"

    def ready(self) -> None:
        # lazy: models and the modules that import them load only once the app registry is ready
        from django.contrib.auth import get_user_model
        from django.db.models.signals import m2m_changed, post_delete, post_save
        from knox.models import AuthToken

        from neural.registry.models import ActivationEvent, ModelVersion, RegisteredModel
        from neural.registry.signals import model_deleting
        from neural.serving import logwriter, services, views

        # Cached token answers (views): forgotten when a token, a user or a user's groups change;
        # a user's groups decide whether it is a viewer (neural.api.permissions).
        user = get_user_model()
        post_delete.connect(views.forget_tokens, sender=AuthToken, dispatch_uid="serving-tokens-token-delete")
        post_save.connect(views.forget_tokens, sender=user, dispatch_uid="serving-tokens-user-save")
        post_delete.connect(views.forget_tokens, sender=user, dispatch_uid="serving-tokens-user-delete")
        m2m_changed.connect(views.forget_tokens, sender=user.groups.through, dispatch_uid="serving-tokens-user-groups")
        # Cached routes (services): which version answers changes with any of these rows.
        for sender in (ModelVersion, RegisteredModel, ActivationEvent):
            name = sender.__name__
            post_save.connect(services.registry_changed, sender=sender, dispatch_uid=f"serving-routes-save-{name}")
            post_delete.connect(services.registry_changed, sender=sender, dispatch_uid=f"serving-routes-delete-{name}")
        # The prediction log follows its versions out (logwriter, services).
        post_delete.connect(
            logwriter.version_deleted, sender=ModelVersion, dispatch_uid="prediction-log-version-deleted"
        )
        model_deleting.connect(services.model_prediction_logs_delete, dispatch_uid="prediction-log-model-deleting")
