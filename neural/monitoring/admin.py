from django.contrib import admin

from neural.monitoring.models import PredictionLog


@admin.register(PredictionLog)
class PredictionLogAdmin(admin.ModelAdmin):
    list_display = ["id", "model_version", "created_at"]
    readonly_fields = [f.name for f in PredictionLog._meta.fields]
