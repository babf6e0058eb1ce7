from django.urls import path

from neural.api import converters  # noqa: F401 (registers <id:>)
from neural.training import views

urlpatterns = [
    path("train", views.TrainView.as_view(), name="train"),
    path("train/<str:session_id>", views.SessionDetailView.as_view(), name="train-detail"),
    path("train/<str:session_id>/status", views.SessionStatusView.as_view(), name="train-status"),
    path("train/<str:session_id>/metrics", views.SessionMetricsView.as_view(), name="train-metrics"),
    path("train/<str:session_id>/steps", views.SessionStepsView.as_view(), name="train-steps"),
    path("train/<str:session_id>/logs", views.SessionLogsView.as_view(), name="train-logs"),
    path("searches", views.SearchView.as_view(), name="search-jobs"),
    path("compare", views.CompareView.as_view(), name="compare"),
    path("searches/<id:job_id>", views.SearchDetailView.as_view(), name="search-job"),
]
