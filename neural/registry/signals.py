"""Signals other apps listen to (connected in their ``AppConfig.ready``), so the registry never
imports them."""

from django.dispatch import Signal

# Sent inside the registering transaction with ``version`` (ModelVersion) and ``trained``
# (neural.engine.pipeline.TrainedModel, whose ``frames`` hold the split rows), or, for an ensemble,
# ``reference`` (a dict: ``train`` rows and ``features``, validation ``confidence`` and ``correct``,
# or only ``copy_from``, a member version). A receiver that raises rolls the registration back
# and removes the artifact.
model_version_registered = Signal()

# Sent inside the deleting transaction with ``model`` (RegisteredModel), before its rows go: the
# serving app deletes the model's prediction log in bulk (a cascade would load every row).
model_deleting = Signal()
