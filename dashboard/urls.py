"""Pages, one module per area in dashboard/pages/, each with its own urlpatterns."""

from django.urls import include, path

urlpatterns = [
    path("", include("dashboard.pages.training")),
    path("", include("dashboard.pages.runs")),
    path("", include("dashboard.pages.compare")),
    path("", include("dashboard.pages.registry")),
    path("", include("dashboard.pages.datasets")),
    path("", include("dashboard.pages.monitoring")),
    path("", include("dashboard.pages.crossval")),
]
