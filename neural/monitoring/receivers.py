"""Signal receivers: store a new version's reference profile and calibration as it registers."""

from __future__ import annotations

from neural.registry.signals import model_version_registered


def _on_version_registered(sender, *, version, trained, **_) -> None:
    # Inside the registering transaction: if this raises, the version is not registered either.
    from neural.monitoring.services import reference_profile_store

    reference_profile_store(version=version, trained=trained)


def connect() -> None:
    model_version_registered.connect(_on_version_registered, dispatch_uid="monitoring.reference_profile")
