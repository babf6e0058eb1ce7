from django import forms
from django.contrib import admin

from neural.errors import DataError
from neural.monitoring.alerts import validate_webhook_url
from neural.monitoring.models import (
    Alert,
    AlertRule,
    DeliveryAttempt,
    DriftReport,
    Feedback,
    ReferenceProfile,
    RetrainPolicy,
    RetrainRun,
)


@admin.register(Feedback)
class FeedbackAdmin(admin.ModelAdmin):
    list_display = ["prediction", "actual", "correct", "abs_error", "received_at"]
    readonly_fields = [f.name for f in Feedback._meta.fields]


@admin.register(ReferenceProfile)
class ReferenceProfileAdmin(admin.ModelAdmin):
    list_display = ["model_version", "created_at"]
    readonly_fields = [f.name for f in ReferenceProfile._meta.fields]


@admin.register(DriftReport)
class DriftReportAdmin(admin.ModelAdmin):
    list_display = ["model_version", "window_end", "rows", "drift_score", "drifted"]


class AlertRuleForm(forms.ModelForm):
    """The webhook secret is write-only (left blank, the stored one is kept); the webhook URL is
    checked as the API checks it (photondrift.outbound)."""

    webhook_url = forms.URLField(required=False, assume_scheme="https", max_length=500)
    webhook_secret = forms.CharField(
        required=False,
        widget=forms.PasswordInput(render_value=False),
        help_text="write-only: leave blank to keep the current secret",
    )

    class Meta:
        model = AlertRule
        fields = "__all__"

    def clean_webhook_url(self) -> str:
        url = self.cleaned_data.get("webhook_url") or ""
        if url:
            try:
                validate_webhook_url(url)
            except DataError as exc:
                raise forms.ValidationError(exc.message) from exc
        return url

    def clean_webhook_secret(self) -> str:
        return self.cleaned_data.get("webhook_secret") or (self.instance.webhook_secret if self.instance.pk else "")


@admin.register(AlertRule)
class AlertRuleAdmin(admin.ModelAdmin):
    form = AlertRuleForm
    list_display = ["model", "kind", "threshold", "consecutive", "window_s", "enabled"]
    list_filter = ["kind", "enabled"]


class DeliveryInline(admin.TabularInline):
    model = DeliveryAttempt
    extra = 0
    readonly_fields = [f.name for f in DeliveryAttempt._meta.fields]


@admin.register(Alert)
class AlertAdmin(admin.ModelAdmin):
    list_display = ["id", "model", "rule", "status", "value", "fired_at", "delivery_claimed_by"]
    list_filter = ["status"]
    inlines = [DeliveryInline]


@admin.register(RetrainPolicy)
class RetrainPolicyAdmin(admin.ModelAdmin):
    list_display = ["model", "schedule", "on_drift", "tolerance", "rollout_weight"]


@admin.register(RetrainRun)
class RetrainRunAdmin(admin.ModelAdmin):
    list_display = ["model", "reason", "decision", "baseline", "candidate", "baseline_value", "candidate_value"]
