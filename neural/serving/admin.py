from django.contrib import admin

from neural.serving.models import PredictionLog


@admin.register(PredictionLog)
class PredictionLogAdmin(admin.ModelAdmin):
    list_display = ["id", "model_version", "created_at"]
    # Newest first by the primary key: its ids are UUIDv7, time-ordered, and its index serves the
    # sort (the table has no index on created_at alone); no full count of a table that grows fast.
    ordering = ["-id"]
    show_full_result_count = False
    readonly_fields = [f.name for f in PredictionLog._meta.fields]
