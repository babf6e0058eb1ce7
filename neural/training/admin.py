from django.contrib import admin

from neural.training.models import (
    CrossValidation,
    CrossValidationFold,
    TrainingSession,
    TuningJob,
    WorkerHeartbeat,
)


@admin.register(TrainingSession)
class TrainingSessionAdmin(admin.ModelAdmin):
    list_display = ["id", "name", "model_name", "dataset", "status", "epoch", "epochs", "created_at"]
    list_filter = ["status", "pattern"]
    readonly_fields = [f.name for f in TrainingSession._meta.fields]


@admin.register(WorkerHeartbeat)
class WorkerHeartbeatAdmin(admin.ModelAdmin):
    list_display = ["hostname", "last_seen"]


@admin.register(TuningJob)
class TuningJobAdmin(admin.ModelAdmin):
    list_display = ["id", "model_version", "method", "objective", "trials", "status", "best_value", "created_at"]
    list_filter = ["status", "method"]
    readonly_fields = [f.name for f in TuningJob._meta.fields]


class CrossValidationFoldInline(admin.TabularInline):
    model = CrossValidationFold
    fields = ["index", "status", "train_rows", "test_rows", "epoch", "metrics", "ran_in", "attempts", "error"]
    readonly_fields = fields
    extra = 0
    can_delete = False


@admin.register(CrossValidation)
class CrossValidationAdmin(admin.ModelAdmin):
    list_display = ["id", "model_name", "dataset", "method", "folds", "status", "created_at"]
    list_filter = ["status", "method"]
    readonly_fields = [f.name for f in CrossValidation._meta.fields]
    inlines = [CrossValidationFoldInline]
