from django.urls import path

from neural.serving import views

urlpatterns = [
    path("predict", views.PredictView.as_view(), name="predict"),
    path("predict/batch", views.PredictBatchView.as_view(), name="predict-batch"),
    path("recommend", views.RecommendView.as_view(), name="recommend"),
]
