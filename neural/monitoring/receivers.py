"""Signal receivers: store a new version's reference profile and calibration as it registers;
delete the feedback on prediction log rows about to be deleted."""

from __future__ import annotations

from neural.monitoring.models import Feedback
from neural.monitoring.services import ensemble_reference_store, reference_profile_store
from neural.registry.signals import model_version_registered
from neural.serving.signals import prediction_logs_deleting


def _on_version_registered(sender, *, version, trained=None, reference=None, **_) -> None:
    # Inside the registering transaction: if this raises, the version is not registered either.
    if reference is not None:  # an ensemble (registry/ensembles.py)
        ensemble_reference_store(version=version, reference=reference)
    else:
        reference_profile_store(version=version, trained=trained)


def _on_prediction_logs_deleting(sender, *, versions, **_) -> None:
    Feedback.objects.filter(prediction__model_version__in=versions).delete()  # nothing depends on feedback


def connect() -> None:
    model_version_registered.connect(_on_version_registered, dispatch_uid="monitoring.reference_profile")
    prediction_logs_deleting.connect(_on_prediction_logs_deleting, dispatch_uid="monitoring.feedback_delete")
