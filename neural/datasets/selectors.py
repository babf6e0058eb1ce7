"""Reads for data sets."""

from __future__ import annotations

import json

from neural.datasets import storage
from neural.datasets.models import Dataset
from neural.datasets.quality import redact_frame
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


def dataset_by_id(*, pk: int) -> Dataset:
    dataset = Dataset.objects.select_related("parent").filter(pk=pk).first()
    if dataset is None:
        raise NotFound(f"data set {pk} does not exist", field="dataset")
    return dataset


def dataset_list():
    return Dataset.objects.all().order_by("name", "-version")


def dataset_family(*, dataset: Dataset) -> list[Dataset]:
    """Every version of the data set's name, oldest first, for the versions tree."""
    return list(Dataset.objects.filter(name=dataset.name).select_related("parent").order_by("version"))


def dataset_sample(*, dataset: Dataset, limit: int = 20) -> list[dict]:
    """The first ``limit`` rows as JSON-ready records, reading only the first row group, with PII
    and secrets redacted as the quality report counts them (neural.datasets.quality.redact_frame)."""
    frame = storage.read_parquet_head(dataset.file, limit)
    cards = {p["column"] for p in (dataset.quality or {}).get("pii", []) if p.get("kind") == "credit_card"}
    frame = redact_frame(frame, card_columns=cards)
    return json.loads(frame.to_json(orient="records", date_format="iso", default_handler=str))
