from django.contrib import admin

from neural.training.models import TrainingSession, WorkerHeartbeat


@admin.register(TrainingSession)
class TrainingSessionAdmin(admin.ModelAdmin):
    list_display = ["id", "name", "model_name", "dataset", "status", "epoch", "epochs", "created_at"]
    list_filter = ["status", "pattern"]
    readonly_fields = [f.name for f in TrainingSession._meta.fields]


@admin.register(WorkerHeartbeat)
class WorkerHeartbeatAdmin(admin.ModelAdmin):
    list_display = ["hostname", "last_seen"]
