from django.urls import path

from neural.api import converters  # noqa: F401 (registers <id:>)
from neural.datasets import views

urlpatterns = [
    path("datasets", views.DatasetListCreateView.as_view(), name="datasets"),
    path("datasets/<id:pk>", views.DatasetDetailView.as_view(), name="dataset-detail"),
    path("datasets/<id:pk>/quality", views.DatasetQualityView.as_view(), name="dataset-quality"),
    path("datasets/<id:pk>/sample", views.DatasetSampleView.as_view(), name="dataset-sample"),
]
