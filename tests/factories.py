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


def api_token(user) -> str:
    """A new API token key for ``user`` (knox keeps only its digest, so the key is returned here)."""
    from neural.api.tokens import api_token_create

    return api_token_create(user=user)


def train_here(*, dataset, model_name: str, epochs: int, user=None, **config):
    """A training session run to success in this process (no worker), for tests that need a model."""
    from neural.engine.config import TrainConfig
    from neural.training.services import training_session_create, training_session_run

    session = training_session_create(
        user=user,
        dataset=dataset,
        pattern=dataset.pattern,
        config=TrainConfig(epochs=epochs, **config),
        model_name=model_name,
        enqueue=False,
    )
    session = training_session_run(session_id=session.pk, ran_in="test")
    assert session.status == "succeeded", session.error
    return session


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


def copies(row, n: int) -> None:
    """``n`` more rows like ``row`` (its fields, new ids) in one insert: a table at page scale."""
    from copy import copy

    clones = []
    for _ in range(n):
        clone = copy(row)
        clone.pk = None
        clones.append(clone)
    type(row).objects.bulk_create(clones)
