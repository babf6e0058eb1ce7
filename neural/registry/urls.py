from django.urls import path

from neural.registry import views
from neural.registry.robustness_views import ModelRobustnessView

urlpatterns = [
    path("models", views.ModelListView.as_view(), name="models"),
    path("ensembles", views.EnsembleCreateView.as_view(), name="ensembles"),
    path("models/<str:model_id>", views.ModelDetailView.as_view(), name="model-detail"),
    path("models/<str:model_id>/metrics", views.ModelMetricsView.as_view(), name="model-metrics"),
    path("models/<str:model_id>/activate", views.ModelActivateView.as_view(), name="model-activate"),
    path("models/<str:model_id>/robustness", ModelRobustnessView.as_view(), name="model-robustness"),
    path("models/<str:model_id>/rollout", views.ModelRolloutView.as_view(), name="model-rollout"),
    path("models/<str:model_id>/rollout/promote", views.ModelPromoteView.as_view(), name="model-promote"),
]
