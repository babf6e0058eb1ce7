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


# One coordination task as the generator's coordination pattern writes it (the demo data set's
# columns): a valid `input` for a coordination model in API-level tests.
COORDINATION_INPUT = {
    "timestamp": "2026-01-03T10:00:00Z",
    "task_type": "code",
    "task_complexity": 3.0,
    "agent_type": "coder",
    "agent_skill": 0.9,
    "agent_load": 1,
    "priority": "high",
    "topology": "mesh",
    "swarm_size": 4,
}
