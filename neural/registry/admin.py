from django.contrib import admin, messages

from neural.errors import Conflict
from neural.registry.models import ActivationEvent, ModelVersion, RegisteredModel
from neural.registry.services import model_version_activate


@admin.register(RegisteredModel)
class RegisteredModelAdmin(admin.ModelAdmin):
    list_display = ["name", "pattern", "created_at"]


@admin.register(ModelVersion)
class ModelVersionAdmin(admin.ModelAdmin):
    list_display = ["model", "version", "is_active", "task", "dataset", "created_at"]
    list_filter = ["model", "is_active"]
    readonly_fields = [f.name for f in ModelVersion._meta.fields]
    actions = ["activate"]

    @admin.action(description="Activate the selected version")
    def activate(self, request, queryset):
        if not request.user.is_superuser and not request.user.is_staff:
            self.message_user(request, "only admins may activate versions", messages.ERROR)
            return
        if queryset.count() != 1:
            self.message_user(request, "select exactly one version to activate", messages.ERROR)
            return
        version = queryset.get()
        try:
            model_version_activate(version=version, user=request.user)
        except Conflict as exc:
            self.message_user(request, exc.message, messages.WARNING)
            return
        self.message_user(request, f"{version} is now active", messages.SUCCESS)


@admin.register(ActivationEvent)
class ActivationEventAdmin(admin.ModelAdmin):
    list_display = ["model_name", "action", "from_version", "to_version", "user", "created_at"]
    readonly_fields = [f.name for f in ActivationEvent._meta.fields]
