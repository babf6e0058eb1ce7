from django.urls import path

from neural.datasets import views

urlpatterns = [
    path("datasets", views.DatasetListCreateView.as_view(), name="datasets"),
    path("datasets/<int:pk>", views.DatasetDetailView.as_view(), name="dataset-detail"),
    path("datasets/<int:pk>/quality", views.DatasetQualityView.as_view(), name="dataset-quality"),
    path("datasets/<int:pk>/sample", views.DatasetSampleView.as_view(), name="dataset-sample"),
]
