from __future__ import annotations

import pytest
from rest_framework.authtoken.models import Token
from rest_framework.test import APIClient

from neural.engine.config import TrainConfig
from neural.training.services import training_session_create, training_session_run
from tests.factories import UserFactory, make_dataset


@pytest.fixture(autouse=True)
def isolated_storage(settings, tmp_path):
    """Each test gets its own data set and model folders, so leftovers are visible."""
    settings.DATASET_STORAGE_PATH = tmp_path / "datasets"
    settings.MODEL_STORAGE_PATH = tmp_path / "models"
    settings.PHOTONDRIFT_HOME = tmp_path


@pytest.fixture
def user(db):
    return UserFactory(username="operator")


@pytest.fixture
def api(user) -> APIClient:
    client = APIClient()
    token, _ = Token.objects.get_or_create(user=user)
    client.credentials(HTTP_AUTHORIZATION=f"Token {token.key}")
    return client


@pytest.fixture
def admin_api(admin_user) -> APIClient:
    client = APIClient()
    client.force_authenticate(admin_user)
    return client


@pytest.fixture
def dataset(db):
    return make_dataset()


@pytest.fixture
def trained(dataset, user):
    """A finished session (trained in this process) and its registered version."""
    session = training_session_create(
        user=user,
        dataset=dataset,
        pattern="coordination",
        config=TrainConfig(epochs=4),
        model_name="coord-model",
        enqueue=False,
    )
    session = training_session_run(session_id=session.pk, ran_in="test")
    assert session.status == "succeeded", session.error
    return session


@pytest.fixture(autouse=True)
def prediction_logs_inline(settings):
    """Prediction logs are written inline in the caller's transaction here, so tests inside a
    rolled-back transaction see them; tests/registry/test_logwriter.py covers the writer thread."""
    settings.PREDICTION_LOG_ASYNC = False
