from django.urls import path

from neural.api import converters  # noqa: F401 (registers <id:>)
from neural.monitoring import views

urlpatterns = [
    path("feedback", views.FeedbackView.as_view(), name="feedback"),
    path("feedback/bulk", views.FeedbackBulkView.as_view(), name="feedback-bulk"),
    path("accuracy", views.AccuracyView.as_view(), name="accuracy"),
    path("drift", views.DriftView.as_view(), name="drift"),
    path("drift/history", views.DriftHistoryView.as_view(), name="drift-history"),
    path("alert-rules", views.AlertRuleListView.as_view(), name="alert-rules"),
    path("alerts", views.AlertListView.as_view(), name="alerts"),
    path("alerts/<id:alert_id>/acknowledge", views.AlertAcknowledgeView.as_view(), name="alert-acknowledge"),
    path("alerts/<id:alert_id>/resolve", views.AlertResolveView.as_view(), name="alert-resolve"),
    path("retrain-policies", views.RetrainPolicyView.as_view(), name="retrain-policies"),
    path("retrain-runs", views.RetrainRunListView.as_view(), name="retrain-runs"),
]
