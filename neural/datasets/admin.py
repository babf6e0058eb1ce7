from django.contrib import admin

from neural.datasets.models import Dataset


@admin.register(Dataset)
class DatasetAdmin(admin.ModelAdmin):
    list_display = ["name", "version", "pattern", "target", "task", "rows", "created_at"]
    list_filter = ["pattern", "task"]
    readonly_fields = [f.name for f in Dataset._meta.fields]
