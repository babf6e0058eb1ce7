from django.urls import path

from dashboard import views

urlpatterns = [
    path("", views.overview, name="overview"),
    path("sessions/<int:session_id>/", views.session_detail, name="session-detail"),
]
