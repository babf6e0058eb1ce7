"""Test settings: only overrides.

The suite runs on PostgreSQL when it answers (and must under ``CI=true``), so the real Celery
worker subprocess and the tests share one database; elsewhere it falls back to SQLite and the
integration tests skip with a reason.
"""

from __future__ import annotations

import os
import socket
import tempfile
from pathlib import Path

import dj_database_url

from photondrift.settings.base import *  # noqa: F403
from photondrift.settings.env import env_bool, env_str

TEST_HOME = Path(tempfile.mkdtemp(prefix="photondrift-test-"))
PHOTONDRIFT_HOME = TEST_HOME
DATASET_STORAGE_PATH = TEST_HOME / "datasets"
MODEL_STORAGE_PATH = TEST_HOME / "models"
MEDIA_ROOT = TEST_HOME / "uploads"
BROKER_DIR = TEST_HOME / "broker"
STATIC_ROOT = TEST_HOME / "staticfiles"
STATIC_ROOT.mkdir()

# The test client speaks plain HTTP (tests/api/test_deploy.py checks the production settings).
SECURE_SSL_REDIRECT = False
SESSION_COOKIE_SECURE = CSRF_COOKIE_SECURE = False

# The tests' webhook receivers listen on loopback.
OUTBOUND_ALLOWED_CIDRS = ["127.0.0.1/32"]

PASSWORD_HASHERS = ["django.contrib.auth.hashers.MD5PasswordHasher"]
CI = env_bool("CI", False)


def _reachable(host: str, port: int) -> bool:
    try:
        with socket.create_connection((host, port), timeout=0.5):
            return True
    except OSError:
        return False


TEST_DATABASE_URL = env_str("TEST_DATABASE_URL", "postgres://postgres@127.0.0.1:5432/photondrift")
TEST_REDIS_URL = env_str("TEST_REDIS_URL", "redis://127.0.0.1:6379/15")
POSTGRES_AVAILABLE = _reachable("127.0.0.1", 5432) if not os.environ.get("DATABASE_URL") else True
if os.environ.get("DATABASE_URL"):
    pass  # base.py already parsed it
elif POSTGRES_AVAILABLE:
    DATABASES = {"default": dj_database_url.parse(TEST_DATABASE_URL)}
else:
    DATABASES = {"default": {"ENGINE": "django.db.backends.sqlite3", "NAME": TEST_HOME / "t.db"}}

# Unit and API tests use the in-memory layer and a broker nobody listens to; integration tests
# switch to Redis explicitly.
CHANNEL_LAYERS = {"default": {"BACKEND": "channels.layers.InMemoryChannelLayer"}}
# Throttle counts per process (tests/conftest.py clears them per test; never a Redis FLUSHDB).
CACHES = {"default": {"BACKEND": "django.core.cache.backends.locmem.LocMemCache"}}
CELERY_BROKER_URL = "memory://"
CELERY_BROKER_TRANSPORT_OPTIONS = {}
CELERY_RESULT_BACKEND = None
STORAGES = {
    "default": {"BACKEND": "django.core.files.storage.FileSystemStorage"},
    "staticfiles": {"BACKEND": "django.contrib.staticfiles.storage.StaticFilesStorage"},
}
