from django.urls import path

from neural.datasets import views

urlpatterns = [
    path("datasets", views.DatasetListCreateView.as_view(), name="datasets"),
    path("datasets/<int:pk>", views.DatasetDetailView.as_view(), name="dataset-detail"),
]
