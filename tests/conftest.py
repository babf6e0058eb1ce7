from __future__ import annotations

import pytest
from django.core.cache import cache
from rest_framework.test import APIClient

from neural.api.throttles import windows
from photondrift.celery import app as celery_app
from tests.factories import UserFactory, api_token, make_dataset, train_here


@pytest.fixture(autouse=True)
def isolated_storage(settings, tmp_path):
    """Each test gets its own data set and model folders, so leftovers are visible."""
    settings.DATASET_STORAGE_PATH = tmp_path / "datasets"
    settings.MODEL_STORAGE_PATH = tmp_path / "models"
    settings.PHOTONDRIFT_HOME = tmp_path


@pytest.fixture(autouse=True)
def fresh_throttles():
    """Throttle counts live in the cache (and predict leases in the process); each test starts with
    none (all tests share one address)."""
    cache.clear()
    windows.forget()
    yield
    cache.clear()
    windows.forget()


@pytest.fixture
def user(db):
    return UserFactory(username="operator")


@pytest.fixture
def api(user) -> APIClient:
    client = APIClient()
    client.credentials(HTTP_AUTHORIZATION=f"Token {api_token(user)}")
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
    return train_here(dataset=dataset, model_name="coord-model", epochs=4, user=user)


@pytest.fixture(autouse=True)
def prediction_logs_inline(settings):
    """Prediction logs are written inline in the caller's transaction here, so tests inside a
    rolled-back transaction see them; tests/registry/test_logwriter.py covers the writer thread."""
    settings.PREDICTION_LOG_ASYNC = False


@pytest.fixture
def eager_celery():
    """Celery tasks run in the test's own process as they are sent."""
    celery_app.conf.task_always_eager = True
    yield
    celery_app.conf.task_always_eager = False
