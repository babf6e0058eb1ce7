"""Reads for data sets."""

from __future__ import annotations

from neural.datasets.models import Dataset
from neural.errors import NotFound


def dataset_get(*, ref: str) -> Dataset:
    """``name`` (latest version) or ``name:vN``."""
    name, _, version = ref.partition(":v")
    qs = Dataset.objects.filter(name=name)
    if version:
        qs = qs.filter(version=int(version)) if version.isdigit() else qs.none()
    dataset = qs.order_by("-version").first()
    if dataset is None:
        raise NotFound(f"data set {ref!r} does not exist", field="training_data")
    return dataset


def dataset_list():
    return Dataset.objects.all().order_by("name", "-version")
