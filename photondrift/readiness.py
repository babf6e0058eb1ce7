"""What a run mode needs, checked one by one for `neural setup`: each check says whether it is
met and, when not, how to fix it. /healthz answers "is it up"; this answers "what is missing".

Run modes (DESIGN.md §3): ``embedded`` (SQLite, a file broker, an in-memory channel layer: one
process) and ``production`` (PostgreSQL, a Redis/RabbitMQ broker, a Redis channel layer, separate
worker and beat processes).
"""

from __future__ import annotations

import shutil
import uuid
from dataclasses import asdict, dataclass
from pathlib import Path

from django.conf import settings
from django.db import DEFAULT_DB_ALIAS, connections
from django.db.migrations.executor import MigrationExecutor

from photondrift.health import _broker, _channel_layer

GIB = 1024**3


@dataclass
class Check:
    name: str
    ok: bool
    detail: str
    fix: str = ""
    required: bool = True

    def to_dict(self) -> dict:
        return asdict(self)


def run_mode() -> str:
    return "production" if settings.DATABASES["default"]["ENGINE"].endswith("postgresql") else "embedded"


def _attempt(name: str, fn, fix: str) -> Check:
    try:
        return Check(name, True, str(fn() or "ok"))
    except Exception as exc:  # a check reports what went wrong; that is its whole job
        return Check(name, False, f"{type(exc).__name__}: {exc}"[:300], fix)


def check_database() -> Check:
    def probe() -> str:
        connection = connections[DEFAULT_DB_ALIAS]
        connection.ensure_connection()
        executor = MigrationExecutor(connection)
        pending = executor.migration_plan(executor.loader.graph.leaf_nodes())
        if pending:
            raise RuntimeError(f"{len(pending)} migration(s) not applied")
        return f"{connection.vendor}, migrations applied"

    return _attempt("database", probe, "set DATABASE_URL (PostgreSQL) and run `python manage.py migrate`")


def check_broker() -> Check:
    return _attempt(
        "broker", _broker, "start Redis and set REDIS_URL (or CELERY_BROKER_URL), e.g. redis://localhost:6379/0"
    )


def check_channel_layer() -> Check:
    return _attempt("channel_layer", _channel_layer, "start Redis and set REDIS_URL (channels_redis uses it)")


def check_writable(name: str, folder: Path) -> Check:
    def probe() -> str:
        folder.mkdir(parents=True, exist_ok=True)
        probe_file = folder / f".setup-probe-{uuid.uuid4().hex}"
        try:
            probe_file.write_bytes(b"ok")
        finally:
            probe_file.unlink(missing_ok=True)
        return str(folder)

    return _attempt(name, probe, f"make {folder} writable by this user, or point the setting at a folder that is")


def check_disk(folder: Path, *, min_free_bytes: int) -> Check:
    existing = next((p for p in [folder, *folder.parents] if p.exists()), Path("/"))
    free = shutil.disk_usage(existing).free
    detail = f"{free / GIB:.1f} GiB free at {existing} (need {min_free_bytes / GIB:.1f} GiB)"
    return Check("disk_space", free >= min_free_bytes, detail, "free disk space or set MODEL_STORAGE_PATH elsewhere")


def production_checks() -> list[Check]:
    """What production needs beyond "it answers": PostgreSQL, a shared broker and channel layer."""
    broker = settings.CELERY_BROKER_URL.split(":", 1)[0]
    layer = settings.CHANNEL_LAYERS["default"]["BACKEND"].rsplit(".", 1)[-1]
    return [
        Check(
            "production_database",
            run_mode() == "production",
            settings.DATABASES["default"]["ENGINE"].rsplit(".", 1)[-1],
            "set DATABASE_URL=postgres://user:password@host:5432/db",
        ),
        Check(
            "production_broker",
            broker in ("redis", "rediss", "amqp", "amqps"),
            broker,
            "set REDIS_URL (or CELERY_BROKER_URL) so workers on other hosts share the queue",
        ),
        Check(
            "production_channel_layer",
            layer in ("RedisPubSubChannelLayer", "RedisChannelLayer"),
            layer,
            "set REDIS_URL so live events reach every web process",
        ),
    ]


def readiness(*, mode: str, min_free_bytes: int = GIB) -> list[Check]:
    """Every check for ``mode`` ("embedded" or "production"), in the order a person fixes them."""
    checks = [
        check_database(),
        check_broker(),
        check_channel_layer(),
        check_writable("model_storage", Path(settings.MODEL_STORAGE_PATH)),
        check_writable("dataset_storage", Path(settings.DATASET_STORAGE_PATH)),
        check_disk(Path(settings.MODEL_STORAGE_PATH), min_free_bytes=min_free_bytes),
    ]
    if mode == "production":
        checks += production_checks()
    return checks
