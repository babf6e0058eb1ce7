"""The one place that sends live events to Channels groups from sync code.

Callers write the database row first, then call :func:`broadcast`: the database is the truth,
the socket only tells pages that something changed. A broadcast that fails is logged, never
raised: a page that misses an event catches up from the database on reconnect.
"""

from __future__ import annotations

import logging
from typing import Literal, TypedDict

from asgiref.sync import async_to_sync
from channels.layers import get_channel_layer

logger = logging.getLogger(__name__)

EventType = Literal[
    "training.epoch",
    "training.step",
    "training.status",
    "training.log",
    "monitoring.accuracy",
    "monitoring.drift",
    "monitoring.alert",
    "registry.activated",
]
DASHBOARD_GROUP = "dashboard"


class RegistryActivated(TypedDict):
    """``registry.activated`` on the dashboard group: a model's active version changed."""

    model: str
    version: str  # "v3"
    from_version: str | None
    validation_accuracy: float | None
    test_accuracy: float | None


def session_group(session_id: int) -> str:
    return f"training.{session_id}"


def broadcast(group: str, event_type: EventType, data: dict) -> None:
    """Send ``{"type": event_type, "data": data}`` to every consumer in ``group``."""
    layer = get_channel_layer()
    if layer is None:
        return
    try:
        async_to_sync(layer.group_send)(group, {"type": event_type, "data": data})
    except Exception:
        logger.exception("broadcast of %s to %s failed; pages will catch up from the database", event_type, group)
