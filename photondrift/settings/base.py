"""PhotonDrift Neural settings.

Laptop (embedded) and production differ by environment variables only:

- ``PHOTONDRIFT_HOME`` (default ``./var``): SQLite file, broker folder, uploads, model artifacts.
- ``DATABASE_URL``: PostgreSQL in production; SQLite under ``PHOTONDRIFT_HOME`` when unset.
- ``STATIC_MANIFEST``: hashed, compressed, long-cached static files (default: on with ``DATABASE_URL``).
- ``REDIS_URL``: Celery broker + results and the Channels layer; when unset, a file-based
  kombu transport under ``PHOTONDRIFT_HOME`` and an in-memory channel layer.
"""

from __future__ import annotations

from datetime import timedelta
from pathlib import Path

import dj_database_url
import plotly
from csp.constants import NONCE, NONE, SELF, UNSAFE_INLINE

from photondrift.settings.env import env_bool, env_float, env_int, env_list, env_str
from photondrift.settings.home import private_home, private_sqlite

BASE_DIR = Path(__file__).resolve().parent.parent.parent
PHOTONDRIFT_HOME = private_home(Path(env_str("PHOTONDRIFT_HOME", str(BASE_DIR / "var"))).resolve())

SECRET_KEY = env_str("DJANGO_SECRET_KEY", "")
DEBUG = env_bool("DJANGO_DEBUG", False)
if not SECRET_KEY:
    # Embedded mode: a key kept beside the data, so sessions survive restarts.
    from photondrift.settings.secret import embedded_secret_key

    SECRET_KEY = embedded_secret_key(PHOTONDRIFT_HOME)
ALLOWED_HOSTS = env_list("DJANGO_ALLOWED_HOSTS", ["127.0.0.1", "localhost", "testserver"])
CSRF_TRUSTED_ORIGINS = env_list("DJANGO_CSRF_TRUSTED_ORIGINS", [])
# The port the server listens on (Procfile, `make run`); `neural dashboard` prints URLs with it.
PORT = env_int("PORT", 8000, minimum=1)

# --- HTTPS (docs/security.md): production defaults unless DEBUG; the embedded server, which
# serves plain HTTP on this machine, sets DJANGO_HTTPS=false for itself (photondrift/embedded.py).
HTTPS = env_bool("DJANGO_HTTPS", not DEBUG)
SECURE_SSL_REDIRECT = env_bool("DJANGO_SECURE_SSL_REDIRECT", HTTPS)
SECURE_REDIRECT_EXEMPT = [r"^healthz$"]  # load balancers probe over plain HTTP
SECURE_HSTS_SECONDS = env_int("DJANGO_SECURE_HSTS_SECONDS", 31_536_000 if HTTPS else 0, minimum=0)
SECURE_HSTS_INCLUDE_SUBDOMAINS = env_bool("DJANGO_SECURE_HSTS_INCLUDE_SUBDOMAINS", HTTPS)
SECURE_HSTS_PRELOAD = env_bool("DJANGO_SECURE_HSTS_PRELOAD", HTTPS)
SESSION_COOKIE_SECURE = env_bool("DJANGO_SESSION_COOKIE_SECURE", HTTPS)
CSRF_COOKIE_SECURE = env_bool("DJANGO_CSRF_COOKIE_SECURE", HTTPS)
# Behind a proxy that terminates TLS and sets this header (and strips it from clients): e.g.
# DJANGO_SECURE_PROXY_SSL_HEADER=HTTP_X_FORWARDED_PROTO. Unset: the connection's own scheme.
_PROXY_SSL_HEADER = env_str("DJANGO_SECURE_PROXY_SSL_HEADER", "")
SECURE_PROXY_SSL_HEADER = (_PROXY_SSL_HEADER, "https") if _PROXY_SSL_HEADER else None

INSTALLED_APPS = [
    "daphne",
    "django.contrib.admin",
    "django.contrib.auth",
    "django.contrib.contenttypes",
    "django.contrib.sessions",
    "django.contrib.messages",
    "photondrift.staticfiles.StaticFiles",
    "rest_framework",
    "knox",
    "axes",
    "drf_spectacular",
    "drf_spectacular_sidecar",
    "csp",
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
    "csp.middleware.CSPMiddleware",
    "whitenoise.middleware.WhiteNoiseMiddleware",
    "django.contrib.sessions.middleware.SessionMiddleware",
    "django.middleware.common.CommonMiddleware",
    "neural.api.middleware.RefuseNulMiddleware",
    "django.middleware.csrf.CsrfViewMiddleware",
    "django.contrib.auth.middleware.AuthenticationMiddleware",
    "django.contrib.messages.middleware.MessageMiddleware",
    "django.middleware.clickjacking.XFrameOptionsMiddleware",
    # Last, as django-axes asks: turns a locked-out login into its 429 answer.
    "axes.middleware.AxesMiddleware",
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
        "NAME": private_sqlite(PHOTONDRIFT_HOME / "db.sqlite3"),
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

# Django's four validators, for every account made through Django (admin, createsuperuser,
# changepassword) and for PHOTONDRIFT_ADMIN_PASSWORD (photondrift/embedded.py).
PASSWORD_MIN_LENGTH = env_int("PASSWORD_MIN_LENGTH", 12, minimum=8)
AUTH_PASSWORD_VALIDATORS = [
    {"NAME": "django.contrib.auth.password_validation.UserAttributeSimilarityValidator"},
    {
        "NAME": "django.contrib.auth.password_validation.MinimumLengthValidator",
        "OPTIONS": {"min_length": PASSWORD_MIN_LENGTH},
    },
    {"NAME": "django.contrib.auth.password_validation.CommonPasswordValidator"},
    {"NAME": "django.contrib.auth.password_validation.NumericPasswordValidator"},
]
# Login lockout (django-axes): LOGIN_FAILURE_LIMIT wrong passwords for one username from one
# address lock that pair out for LOGIN_LOCKOUT_MINUTES (HTTP 429); a success resets the count.
AUTHENTICATION_BACKENDS = [
    "axes.backends.AxesStandaloneBackend",
    "django.contrib.auth.backends.ModelBackend",
]
AXES_FAILURE_LIMIT = env_int("LOGIN_FAILURE_LIMIT", 5, minimum=1)
AXES_COOLOFF_TIME = timedelta(minutes=env_int("LOGIN_LOCKOUT_MINUTES", 15, minimum=1))
AXES_LOCKOUT_PARAMETERS = [["username", "ip_address"]]
AXES_RESET_ON_SUCCESS = True
AXES_VERBOSE = False
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
# Production (``collectstatic`` ran: Procfile, docker-compose) serves hashed names with gzip and
# brotli copies, cached for a year (whitenoise marks hashed files immutable). The embedded server
# has no collect step and serves the source folders as they are. STATIC_MANIFEST defaults to on
# with a DATABASE_URL (production), off without one (laptop); either can be forced.
STATIC_MANIFEST = env_bool("STATIC_MANIFEST", bool(DATABASE_URL))
STORAGES = {
    "default": {"BACKEND": "django.core.files.storage.FileSystemStorage"},
    "staticfiles": {
        "BACKEND": "whitenoise.storage.CompressedManifestStaticFilesStorage"
        if STATIC_MANIFEST
        else "django.contrib.staticfiles.storage.StaticFilesStorage"
    },
}
WHITENOISE_USE_FINDERS = not STATIC_MANIFEST
WHITENOISE_KEEP_ONLY_HASHED_FILES = STATIC_MANIFEST  # half the files to compress; templates use {% static %}
WHITENOISE_AUTOREFRESH = DEBUG

MEDIA_ROOT = PHOTONDRIFT_HOME / "uploads"
DATASET_STORAGE_PATH = Path(env_str("DATASET_STORAGE_PATH", str(PHOTONDRIFT_HOME / "datasets")))
MODEL_STORAGE_PATH = Path(env_str("MODEL_STORAGE_PATH", str(PHOTONDRIFT_HOME / "models")))
DATA_UPLOAD_MAX_MB = env_int("DATA_UPLOAD_MAX_MB", 1024, minimum=1)
# Every request body that is not an authenticated upload (photondrift/limits.py), checked before it is read.
REQUEST_BODY_MAX_MB = env_int("REQUEST_BODY_MAX_MB", 16, minimum=1)
# What an imported file may hold once decoded, whatever its size on disk (neural/datasets/limits.py).
DATA_MAX_ROWS = env_int("DATA_MAX_ROWS", 10_000_000, minimum=1)
DATA_MAX_CELLS = env_int("DATA_MAX_CELLS", 200_000_000, minimum=1)
DATA_MAX_DECODED_MB = env_int("DATA_MAX_DECODED_MB", 4096, minimum=1)
# Nesting of JSON documents: uploaded files and API request bodies.
JSON_MAX_DEPTH = env_int("JSON_MAX_DEPTH", 32, minimum=2)
PREDICT_BATCH_MAX = env_int("PREDICT_BATCH_MAX", 10_000, minimum=1)
# Prediction log rows are written by a thread off the request path; false writes them inline.
PREDICTION_LOG_ASYNC = env_bool("PREDICTION_LOG_ASYNC", True)
# Alert webhooks: seconds per attempt, attempts in all, and the first retry's delay (doubling).
MONITORING_WEBHOOK_TIMEOUT_S = env_float("MONITORING_WEBHOOK_TIMEOUT_S", 5.0, minimum=0.1)
MONITORING_WEBHOOK_ATTEMPTS = env_int("MONITORING_WEBHOOK_ATTEMPTS", 4, minimum=1)
MONITORING_WEBHOOK_BACKOFF_S = env_float("MONITORING_WEBHOOK_BACKOFF_S", 2.0, minimum=0)
# Django refuses request bodies above this before our code sees them; uploads stream to disk.
DATA_UPLOAD_MAX_MEMORY_SIZE = 64 * 1024 * 1024
FILE_UPLOAD_MAX_MEMORY_SIZE = 8 * 1024 * 1024

# Networks that outbound requests (alert webhooks, photondrift/outbound.py) may reach although
# they are not public (loopback, private, link-local): a comma-separated CIDR list, default none.
OUTBOUND_ALLOWED_CIDRS = env_list("OUTBOUND_ALLOWED_CIDRS", [])

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
# `neural hyper-optimize` queues this many tasks per search; each runs trials until none are left,
# so up to this many workers share one search.
TUNING_TASKS = env_int("TUNING_TASKS", 4, minimum=1)
# A trial's runner records a heartbeat this often; a running trial silent for 3 beats is failed
# (its worker died), so the search still finishes.
TUNING_HEARTBEAT_S = env_int("TUNING_HEARTBEAT_S", 10, minimum=1)
# Limits on queued search work: trials x epochs of one search, and searches queued or running at
# once per user (a 400 naming the field, a 409 over REST; one-line errors in the CLI).
SEARCH_MAX_TRIAL_EPOCHS = env_int("SEARCH_MAX_TRIAL_EPOCHS", 20_000, minimum=1)
SEARCH_MAX_ACTIVE_PER_USER = env_int("SEARCH_MAX_ACTIVE_PER_USER", 3, minimum=1)
# A running training session whose process has not beaten (every ~5 s, progress.HEARTBEAT_S) for
# this long lost its worker: the sweep (at worker start and every TRAINING_SWEEP_EVERY_S) re-queues
# it to resume from its last checkpoint, at most TRAINING_RESUME_ATTEMPTS times, or fails it.
TRAINING_STALE_AFTER_S = env_int("TRAINING_STALE_AFTER_S", 60, minimum=1)
TRAINING_RESUME_ATTEMPTS = env_int("TRAINING_RESUME_ATTEMPTS", 3, minimum=0)
TRAINING_SWEEP_EVERY_S = env_int("TRAINING_SWEEP_EVERY_S", 60, minimum=1)
# How often beat evaluates every alert rule (the schedule is declared in neural/periodic.py).
ALERT_EVALUATION_EVERY_S = env_int("ALERT_EVALUATION_EVERY_S", 60, minimum=1)
# `make run` (photondrift/embedded.py) runs celery beat in-process; off, it runs no schedule.
EMBEDDED_BEAT = env_bool("EMBEDDED_BEAT", True)

# --- Channels ---------------------------------------------------------------------------------
CHANNEL_LAYERS = {
    "default": {
        # Redis pub/sub: a group frame is one PUBLISH that each web process hears once and hands
        # to its own consumers. The list-based RedisChannelLayer stored one message per consumer
        # and each process popped them one round trip at a time: 25 pages in one process got an
        # epoch 13 ms later at the median, 27 ms at p95 (0.8 / 4.4 ms now; docs/dashboard.md).
        # Nothing here needs a message kept for a consumer that is not listening: pages catch up
        # from the database when they reconnect.
        "BACKEND": "channels_redis.pubsub.RedisPubSubChannelLayer",
        "CONFIG": {"hosts": [REDIS_URL]},
    }
    if REDIS_URL
    else {"BACKEND": "channels.layers.InMemoryChannelLayer"}
}

# Throttle counts (neural/api/auth.py, DRF throttles): shared by every process through Redis in
# production; per process otherwise.
CACHES = {
    "default": {"BACKEND": "django.core.cache.backends.redis.RedisCache", "LOCATION": REDIS_URL}
    if REDIS_URL
    else {"BACKEND": "django.core.cache.backends.locmem.LocMemCache"}
}

# --- REST -------------------------------------------------------------------------------------
REST_FRAMEWORK = {
    "DEFAULT_AUTHENTICATION_CLASSES": [
        "neural.api.auth.TokenAuthentication",
        "rest_framework.authentication.SessionAuthentication",
    ],
    "DEFAULT_PARSER_CLASSES": [
        "neural.api.parsers.JSONParser",
        "rest_framework.parsers.FormParser",
        "rest_framework.parsers.MultiPartParser",
    ],
    "DEFAULT_PERMISSION_CLASSES": [
        "rest_framework.permissions.IsAuthenticated",
        "neural.api.permissions.IsOperatorOrReadOnly",
    ],
    "DEFAULT_SCHEMA_CLASS": "drf_spectacular.openapi.AutoSchema",
    "DEFAULT_PAGINATION_CLASS": "neural.api.pagination.Pagination",
    "PAGE_SIZE": 50,
    "EXCEPTION_HANDLER": "neural.api.errors.exception_handler",
    "UNAUTHENTICATED_USER": "django.contrib.auth.models.AnonymousUser",
    # Views that name a throttle_scope are throttled per user (predict: neural/serving/views.py);
    # failed token checks per address (neural/api/auth.py). DRF's rate syntax: N/second|min|hour|day.
    "DEFAULT_THROTTLE_CLASSES": ["rest_framework.throttling.ScopedRateThrottle"],
    # The client's address is REMOTE_ADDR, never a client-sent X-Forwarded-For (behind a proxy,
    # uvicorn's --proxy-headers --forwarded-allow-ips=<proxy> puts the real one there).
    "NUM_PROXIES": 0,
    "DEFAULT_THROTTLE_RATES": {
        "predict": env_str("PREDICT_THROTTLE_RATE", "6000/min") or None,
        "token_failure": env_str("TOKEN_FAILURE_RATE", "20/min") or None,
    },
}
# API tokens (django-rest-knox): the database keeps a SHA-512 digest of each key, never the key.
# API_TOKEN_TTL_HOURS: lifetime of a new token, 0 (the default) for tokens that never expire.
API_TOKEN_TTL_HOURS = env_int("API_TOKEN_TTL_HOURS", 0, minimum=0)
REST_KNOX = {
    "TOKEN_TTL": timedelta(hours=API_TOKEN_TTL_HOURS) if API_TOKEN_TTL_HOURS else None,
    "AUTH_HEADER_PREFIX": "Token",
}
# Content-Security-Policy (django-csp): scripts only from this site or with the response's nonce
# (templates: nonce="{{ request.csp_nonce }}"); Plotly sets style attributes, hence inline styles.
CONTENT_SECURITY_POLICY = {
    "DIRECTIVES": {
        "default-src": [SELF],
        "script-src": [SELF, NONCE],
        "style-src": [SELF, UNSAFE_INLINE],
        "img-src": [SELF, "data:"],
        "font-src": [SELF, "data:"],
        "connect-src": [SELF],
        "object-src": [NONE],
        "base-uri": [SELF],
        "form-action": [SELF],
        "frame-ancestors": [NONE],
    }
}
SPECTACULAR_SETTINGS = {
    # The schema and its Swagger UI are for signed-in users and token holders only.
    "SERVE_PERMISSIONS": ["rest_framework.permissions.IsAuthenticated"],
    "TITLE": "PhotonDrift Neural API",
    "VERSION": "1.0.0",
    "SWAGGER_UI_DIST": "SIDECAR",
    "SWAGGER_UI_FAVICON_HREF": "SIDECAR",
    "REDOC_DIST": "SIDECAR",
    # <id:...> in URLs (neural/api/converters.py): a bigint row id.
    "PATH_CONVERTER_OVERRIDES": {"id": {"type": "integer", "minimum": 0, "maximum": 2**63 - 1}},
    # One name per choice set (several models have a `status`; two serializers list the patterns).
    "ENUM_NAME_OVERRIDES": {
        "PatternEnum": "neural.datasets.models.Pattern",
        "TrainingSessionStatusEnum": "neural.training.models.TrainingSession.Status",
        "SearchStatusEnum": "neural.training.models.TuningJob.Status",
        "AlertStatusEnum": "neural.monitoring.models.Alert.Status",
        "ModelVersionKindEnum": "neural.registry.models.ModelVersion.Kind",
        "KindEnum": "neural.monitoring.models.AlertRule.Kind",  # the name it had before versions had a kind
    },
}

LOGGING = {
    "version": 1,
    "disable_existing_loggers": False,
    "handlers": {"console": {"class": "logging.StreamHandler"}},
    "root": {"handlers": ["console"], "level": env_str("LOG_LEVEL", "INFO")},
    "loggers": {"django.channels.server": {"level": "WARNING"}},
}
