from django.contrib import admin, messages
from django.core.exceptions import PermissionDenied
from django.shortcuts import get_object_or_404, redirect
from django.urls import path, reverse
from django.views.decorators.http import require_POST

from neural.api.permissions import is_viewer
from neural.errors import Conflict
from neural.registry.models import ActivationEvent, ModelVersion, RegisteredModel
from neural.registry.selectors import activation_drop
from neural.registry.services import model_version_activate


def can_activate(user) -> bool:
    """Activation is for admins: superusers, or staff allowed to change versions who are not in
    the viewers group (the viewer role wins over staff permissions)."""
    return bool(
        user.is_active
        and user.is_staff
        and (user.is_superuser or (user.has_perm("registry.change_modelversion") and not is_viewer(user)))
    )


@admin.register(RegisteredModel)
class RegisteredModelAdmin(admin.ModelAdmin):
    list_display = ["name", "pattern", "candidate", "candidate_weight", "created_at"]
    readonly_fields = ["candidate", "candidate_weight", "rollout_started_at"]


@admin.register(ModelVersion)
class ModelVersionAdmin(admin.ModelAdmin):
    list_display = ["model", "version", "is_active", "task", "dataset", "compression", "created_at"]
    list_filter = ["model", "is_active"]
    readonly_fields = [f.name for f in ModelVersion._meta.fields]
    actions = ["activate"]

    @admin.action(description="Activate the selected version")
    def activate(self, request, queryset):
        if not can_activate(request.user):
            self.message_user(request, "only admins may activate versions", messages.ERROR)
            return
        if queryset.count() != 1:
            self.message_user(request, "select exactly one version to activate", messages.ERROR)
            return
        version = queryset.get()
        drop = activation_drop(version, version.model.versions.filter(is_active=True).first())
        if drop:
            message = f"not activated: {_drop_text(drop)} Use the Activate button on its page, which asks first."
            self.message_user(request, message, messages.WARNING)
            return
        self._activate(request, version)

    def _activate(self, request, version: ModelVersion) -> None:
        try:
            model_version_activate(version=version, user=request.user)
        except Conflict as exc:
            self.message_user(request, exc.message, messages.WARNING)
            return
        self.message_user(request, f"{version} is now active", messages.SUCCESS)

    def get_urls(self):
        urls = [
            path(
                "<int:pk>/activate/",
                self.admin_site.admin_view(require_POST(self.activate_view)),
                name="registry_modelversion_activate",
            )
        ]
        return urls + super().get_urls()

    def activate_view(self, request, pk: int):
        """The "Activate" button on a version's page (it asks first when the version scores worse
        than the active one; the page's confirm() adds confirm=yes)."""
        if not can_activate(request.user):
            raise PermissionDenied("only admins may activate versions")
        version = get_object_or_404(ModelVersion, pk=pk)
        drop = activation_drop(version, version.model.versions.filter(is_active=True).first())
        if drop and request.POST.get("confirm") != "yes":
            self.message_user(request, f"not activated: {_drop_text(drop)} Confirm to activate it.", messages.WARNING)
        else:
            self._activate(request, version)
        return redirect(reverse("admin:registry_modelversion_change", args=[pk]))

    def change_view(self, request, object_id, form_url="", extra_context=None):
        version = ModelVersion.objects.filter(pk=object_id).select_related("model").first()
        active = version.model.versions.filter(is_active=True).first() if version else None
        drop = activation_drop(version, active) if version else None
        extra = {
            **(extra_context or {}),
            "can_activate": can_activate(request.user),
            "activation_warning": _drop_text(drop) if drop else "",
        }
        return super().change_view(request, object_id, form_url, extra_context=extra)


def _drop_text(drop: dict) -> str:
    return (
        f"{drop['version'].label} scores {drop['drop']:.3f} lower {drop['metric']} than the active "
        f"{drop['active'].label} ({drop['score']:.3f} against {drop['active_score']:.3f})."
    )


@admin.register(ActivationEvent)
class ActivationEventAdmin(admin.ModelAdmin):
    list_display = ["model_name", "action", "from_version", "to_version", "detail", "user", "created_at"]
    list_filter = ["action"]
    readonly_fields = [f.name for f in ActivationEvent._meta.fields]
