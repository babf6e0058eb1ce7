"""Signals other apps listen to (connected in their ``AppConfig.ready``), so serving never
imports them."""

from django.dispatch import Signal

# Sent inside a transaction with ``versions`` (a queryset of ModelVersion keys) just before their
# prediction log rows are deleted in bulk: rows that point at them (monitoring's feedback) go first.
prediction_logs_deleting = Signal()
