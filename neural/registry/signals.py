"""Signals other apps listen to, so the registry never imports them."""

from django.dispatch import Signal

# Sent inside the registering transaction with ``version`` (ModelVersion) and ``trained``
# (neural.engine.pipeline.TrainedModel, whose ``frames`` hold the split rows). A receiver that
# raises rolls the registration back and removes the artifact.
model_version_registered = Signal()
