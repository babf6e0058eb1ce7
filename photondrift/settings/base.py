"""PhotonDrift Neural settings.

Laptop (embedded) and production differ by environment variables only:

- ``PHOTONDRIFT_HOME`` (default ``./var``): SQLite file, broker folder, uploads, model artifacts.
- ``DATABASE_URL``: PostgreSQL in production; SQLite under ``PHOTONDRIFT_HOME`` when unset.
- ``REDIS_URL``: Celery broker + results and the Channels layer; when unset, a file-based
  kombu transport under ``PHOTONDRIFT_HOME`` and an in-memory channel layer.
"""

from __future__ import annotations

from pathlib import Path

import dj_database_url
import plotly

from photondrift.settings.env import env_bool, env_float, env_int, env_list, env_str

BASE_DIR = Path(__file__).resolve().parent.parent.parent
PHOTONDRIFT_HOME = Path(env_str("PHOTONDRIFT_HOME", str(BASE_DIR / "var"))).resolve()

SECRET_KEY = env_str("DJANGO_SECRET_KEY", "")
DEBUG = env_bool("DJANGO_DEBUG", False)
if not SECRET_KEY:
    # Embedded mode: a key kept beside the data, so sessions survive restarts.
    from photondrift.settings.secret import embedded_secret_key

    SECRET_KEY = embedded_secret_key(PHOTONDRIFT_HOME)
ALLOWED_HOSTS = env_list("DJANGO_ALLOWED_HOSTS", ["127.0.0.1", "localhost", "testserver"])
CSRF_TRUSTED_ORIGINS = env_list("DJANGO_CSRF_TRUSTED_ORIGINS", [])

INSTALLED_APPS = [
    "daphne",
    "django.contrib.admin",
    "django.contrib.auth",
    "django.contrib.contenttypes",
    "django.contrib.sessions",
    "django.contrib.messages",
    "django.contrib.staticfiles",
    "rest_framework",
    "rest_framework.authtoken",
    "drf_spectacular",
    "drf_spectacular_sidecar",
    "django_celery_beat",
    "channels",
    "neural",
    "neural.datasets",
    "neural.training",
    "neural.registry",
    "neural.serving",
    "neural.monitoring",
    "dashboard",
]

MIDDLEWARE = [
    "django.middleware.security.SecurityMiddleware",
    "whitenoise.middleware.WhiteNoiseMiddleware",
    "django.contrib.sessions.middleware.SessionMiddleware",
    "django.middleware.common.CommonMiddleware",
    "django.middleware.csrf.CsrfViewMiddleware",
    "django.contrib.auth.middleware.AuthenticationMiddleware",
    "django.contrib.messages.middleware.MessageMiddleware",
    "django.middleware.clickjacking.XFrameOptionsMiddleware",
]

ROOT_URLCONF = "photondrift.urls"
ASGI_APPLICATION = "photondrift.asgi.application"
WSGI_APPLICATION = None

TEMPLATES = [
    {
        "BACKEND": "django.template.backends.django.DjangoTemplates",
        "DIRS": [BASE_DIR / "templates"],
        "APP_DIRS": True,
        "OPTIONS": {
            "context_processors": [
                "django.template.context_processors.request",
                "django.contrib.auth.context_processors.auth",
                "django.contrib.messages.context_processors.messages",
            ],
        },
    },
]

DATABASE_URL = env_str("DATABASE_URL", "")
DATABASES = {
    "default": dj_database_url.parse(DATABASE_URL, conn_max_age=60)
    if DATABASE_URL
    else {
        "ENGINE": "django.db.backends.sqlite3",
        "NAME": PHOTONDRIFT_HOME / "db.sqlite3",
        # The worker thread and the web server write at once; WAL lets readers carry on.
        "OPTIONS": {
            "timeout": 30,
            "init_command": "PRAGMA journal_mode=WAL;",
            # Take the write lock at BEGIN: a read-then-write (update_or_create) in one thread
            # cannot then be refused mid-transaction because another thread wrote meanwhile.
            "transaction_mode": "IMMEDIATE",
        },
    }
}
DEFAULT_AUTO_FIELD = "django.db.models.BigAutoField"

AUTH_PASSWORD_VALIDATORS = [
    {"NAME": "django.contrib.auth.password_validation.MinimumLengthValidator"},
]
LOGIN_URL = "/login/"
LOGIN_REDIRECT_URL = "/"
LOGOUT_REDIRECT_URL = "/login/"

LANGUAGE_CODE = "en-us"
TIME_ZONE = "UTC"
USE_I18N = False
USE_TZ = True

STATIC_URL = "/static/"
STATIC_ROOT = PHOTONDRIFT_HOME / "staticfiles"
# Plotly's own bundled plotly.min.js is served from the installed package: no CDN, no copy.
STATICFILES_DIRS = [
    BASE_DIR / "static",
    ("plotly", Path(plotly.__file__).parent / "package_data"),
]
WHITENOISE_USE_FINDERS = True
WHITENOISE_AUTOREFRESH = DEBUG

MEDIA_ROOT = PHOTONDRIFT_HOME / "uploads"
DATASET_STORAGE_PATH = Path(env_str("DATASET_STORAGE_PATH", str(PHOTONDRIFT_HOME / "datasets")))
MODEL_STORAGE_PATH = Path(env_str("MODEL_STORAGE_PATH", str(PHOTONDRIFT_HOME / "models")))
DATA_UPLOAD_MAX_MB = env_int("DATA_UPLOAD_MAX_MB", 1024, minimum=1)
PREDICT_BATCH_MAX = env_int("PREDICT_BATCH_MAX", 10_000, minimum=1)
# Prediction log rows are written by a thread off the request path; false writes them inline.
PREDICTION_LOG_ASYNC = env_bool("PREDICTION_LOG_ASYNC", True)
# The embedded server's port (`make run`), which `neural dashboard` opens by default.
PORT = env_int("PORT", 8000, minimum=1)
# Alert webhooks: seconds per attempt, attempts in all, and the first retry's delay (doubling).
MONITORING_WEBHOOK_TIMEOUT_S = env_float("MONITORING_WEBHOOK_TIMEOUT_S", 5.0, minimum=0.1)
MONITORING_WEBHOOK_ATTEMPTS = env_int("MONITORING_WEBHOOK_ATTEMPTS", 4, minimum=1)
MONITORING_WEBHOOK_BACKOFF_S = env_float("MONITORING_WEBHOOK_BACKOFF_S", 2.0, minimum=0)
# Django refuses request bodies above this before our code sees them; uploads stream to disk.
DATA_UPLOAD_MAX_MEMORY_SIZE = 64 * 1024 * 1024
FILE_UPLOAD_MAX_MEMORY_SIZE = 8 * 1024 * 1024

# --- Celery -----------------------------------------------------------------------------------
REDIS_URL = env_str("REDIS_URL", "")
BROKER_DIR = PHOTONDRIFT_HOME / "broker"
CELERY_BROKER_URL = env_str("CELERY_BROKER_URL", REDIS_URL or "filesystem://localhost//")
CELERY_BROKER_TRANSPORT_OPTIONS = (
    {
        "data_folder_in": str(BROKER_DIR / "queue"),
        "data_folder_out": str(BROKER_DIR / "queue"),
        "control_folder": str(BROKER_DIR / "control"),
        "processed_folder": str(BROKER_DIR / "processed"),
        "store_processed": False,
    }
    if CELERY_BROKER_URL.startswith("filesystem")
    else {}
)
CELERY_RESULT_BACKEND = env_str("CELERY_RESULT_BACKEND", REDIS_URL or "") or None
# Task state lives in our own tables (TrainingSession.status); results are never read back.
CELERY_TASK_IGNORE_RESULT = True
CELERY_TASK_SERIALIZER = "json"
CELERY_ACCEPT_CONTENT = ["json"]
CELERY_TASK_ACKS_LATE = True
CELERY_TASK_REJECT_ON_WORKER_LOST = True
CELERY_WORKER_PREFETCH_MULTIPLIER = 1
CELERY_TASK_DEFAULT_QUEUE = "default"
CELERY_TASK_ROUTES = {"neural.training.tasks.*": {"queue": "training"}}
CELERY_BEAT_SCHEDULER = "django_celery_beat.schedulers:DatabaseScheduler"
CELERY_TASK_ALWAYS_EAGER = False
WORKER_HEARTBEAT_S = env_int("WORKER_HEARTBEAT_S", 5, minimum=1)
# A running training session whose heartbeat is older than this lost its process (taken over).
TRAINING_STALE_S = env_int("TRAINING_STALE_S", 30, minimum=1)
# `neural hyper-optimize` queues this many tasks per search; each runs trials until none are left,
# so up to this many workers share one search.
TUNING_TASKS = env_int("TUNING_TASKS", 4, minimum=1)
# A trial's runner records a heartbeat this often; a running trial silent for 3 beats is failed
# (its worker died), so the search still finishes.
TUNING_HEARTBEAT_S = env_int("TUNING_HEARTBEAT_S", 10, minimum=1)

# --- Channels ---------------------------------------------------------------------------------
CHANNEL_LAYERS = {
    "default": {
        "BACKEND": "channels_redis.core.RedisChannelLayer",
        # redis-py 8 reads with a 5 s socket timeout by default, which cuts the layer's own
        # 5 s blocking receive short (redis.exceptions.TimeoutError in every idle consumer).
        "CONFIG": {"hosts": [{"address": REDIS_URL, "socket_timeout": 30}]},
    }
    if REDIS_URL
    else {"BACKEND": "channels.layers.InMemoryChannelLayer"}
}

# --- REST -------------------------------------------------------------------------------------
REST_FRAMEWORK = {
    "DEFAULT_AUTHENTICATION_CLASSES": [
        "rest_framework.authentication.TokenAuthentication",
        "rest_framework.authentication.SessionAuthentication",
    ],
    "DEFAULT_PERMISSION_CLASSES": [
        "rest_framework.permissions.IsAuthenticated",
        "neural.api.permissions.IsOperatorOrReadOnly",
    ],
    "DEFAULT_SCHEMA_CLASS": "drf_spectacular.openapi.AutoSchema",
    "DEFAULT_PAGINATION_CLASS": "rest_framework.pagination.LimitOffsetPagination",
    "PAGE_SIZE": 50,
    "EXCEPTION_HANDLER": "neural.api.errors.exception_handler",
    "UNAUTHENTICATED_USER": "django.contrib.auth.models.AnonymousUser",
}
SPECTACULAR_SETTINGS = {
    "TITLE": "PhotonDrift Neural API",
    "VERSION": "1.0.0",
    "SWAGGER_UI_DIST": "SIDECAR",
    "SWAGGER_UI_FAVICON_HREF": "SIDECAR",
    "REDOC_DIST": "SIDECAR",
    # One name per choice set (several models have a `status`; two serializers list the patterns).
    "ENUM_NAME_OVERRIDES": {
        "PatternEnum": "neural.datasets.models.Pattern",
        "TrainingSessionStatusEnum": "neural.training.models.TrainingSession.Status",
        "SearchStatusEnum": "neural.training.models.TuningJob.Status",
        "AlertStatusEnum": "neural.monitoring.models.Alert.Status",
    },
}

LOGGING = {
    "version": 1,
    "disable_existing_loggers": False,
    "handlers": {"console": {"class": "logging.StreamHandler"}},
    "root": {"handlers": ["console"], "level": env_str("LOG_LEVEL", "INFO")},
    "loggers": {"django.channels.server": {"level": "WARNING"}},
}
