from django.contrib import admin

from neural.training.models import TrainingSession, TuningJob, WorkerHeartbeat


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
