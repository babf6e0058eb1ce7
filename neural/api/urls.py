"""The /api/v1/neural/ URL map; each app keeps its own serializers and views."""

from django.urls import path

from neural.datasets import views as datasets
from neural.registry import views as registry
from neural.training import views as training

urlpatterns = [
    path("datasets", datasets.DatasetListCreateView.as_view(), name="datasets"),
    path("datasets/<int:pk>", datasets.DatasetDetailView.as_view(), name="dataset-detail"),
    path("train", training.TrainView.as_view(), name="train"),
    path("train/<int:session_id>", training.SessionDetailView.as_view(), name="train-detail"),
    path("train/<int:session_id>/status", training.SessionStatusView.as_view(), name="train-status"),
    path("train/<int:session_id>/metrics", training.SessionMetricsView.as_view(), name="train-metrics"),
    path("train/<int:session_id>/logs", training.SessionLogsView.as_view(), name="train-logs"),
    path("models", registry.ModelListView.as_view(), name="models"),
    path("models/<str:model_id>", registry.ModelDetailView.as_view(), name="model-detail"),
    path("models/<str:model_id>/metrics", registry.ModelMetricsView.as_view(), name="model-metrics"),
    path("models/<str:model_id>/activate", registry.ModelActivateView.as_view(), name="model-activate"),
    path("predict", registry.PredictView.as_view(), name="predict"),
    path("predict/batch", registry.PredictBatchView.as_view(), name="predict-batch"),
]
