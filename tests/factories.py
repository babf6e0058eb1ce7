"""Factories for test data. Data sets go through the real service so files and rows match."""

from __future__ import annotations

import factory
from django.contrib.auth import get_user_model

from neural.datasets.generator import generate
from neural.datasets.services import dataset_store_frame


class UserFactory(factory.django.DjangoModelFactory):
    class Meta:
        model = get_user_model()
        django_get_or_create = ("username",)

    username = factory.Sequence(lambda n: f"user{n}")
    password = factory.django.Password("pw-for-tests")


def make_dataset(*, name: str = "coord", pattern: str = "coordination", rows: int = 400, seed: int = 3):
    df, target = generate(pattern=pattern, rows=rows, seed=seed)
    return dataset_store_frame(df=df, name=name, target=target, pattern=pattern, source_format="generator")
