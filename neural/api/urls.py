"""The /api/v1/neural/ URL map; each app keeps its own urls, serializers and views."""

from django.urls import include, path

urlpatterns = [
    path("", include("neural.datasets.urls")),
    path("", include("neural.training.urls")),
    path("", include("neural.registry.urls")),
    path("", include("neural.serving.urls")),
    path("", include("neural.monitoring.urls")),
]
