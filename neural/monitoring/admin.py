from django.contrib import admin

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


@admin.register(AlertRule)
class AlertRuleAdmin(admin.ModelAdmin):
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
