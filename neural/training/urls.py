from django.urls import path

from neural.api import converters  # noqa: F401 (registers <id:>)
from neural.training import crossval_views, views

urlpatterns = [
    path("train", views.TrainView.as_view(), name="train"),
    path("train/<str:session_id>", views.SessionDetailView.as_view(), name="train-detail"),
    path("train/<str:session_id>/status", views.SessionStatusView.as_view(), name="train-status"),
    path("train/<str:session_id>/metrics", views.SessionMetricsView.as_view(), name="train-metrics"),
    path("train/<str:session_id>/steps", views.SessionStepsView.as_view(), name="train-steps"),
    path("train/<str:session_id>/logs", views.SessionLogsView.as_view(), name="train-logs"),
    path("runs", views.RunsView.as_view(), name="runs"),
    path("runs/<id:run_id>", views.RunDetailView.as_view(), name="run-detail"),
    path("searches", views.SearchView.as_view(), name="search-jobs"),
    path("compare", views.CompareView.as_view(), name="compare"),
    path("searches/<id:job_id>", views.SearchDetailView.as_view(), name="search-job"),
    path("cross-validations", crossval_views.CrossValidationView.as_view(), name="cross-validations"),
    path("cross-validations/<id:cv_id>", crossval_views.CrossValidationDetailView.as_view(), name="cross-validation"),
    path(
        "cross-validations/<id:cv_id>/predictions",
        crossval_views.CrossValidationPredictionsView.as_view(),
        name="cross-validation-predictions",
    ),
    path(
        "cross-validations/<id:cv_id>/train",
        crossval_views.CrossValidationTrainView.as_view(),
        name="cross-validation-train",
    ),
]
