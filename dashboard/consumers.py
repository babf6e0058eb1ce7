"""Thin consumers: auth in connect(), one handler per event type forwarding event["data"]."""

from __future__ import annotations

from channels.db import database_sync_to_async
from channels.generic.websocket import AsyncJsonWebsocketConsumer

from neural.training.models import TrainingSession
from photondrift.realtime import DASHBOARD_GROUP, session_group

UNAUTHORIZED = 4401
NOT_FOUND = 4404
UNSUPPORTED_DATA = 1003  # RFC 6455: a frame this endpoint cannot accept


class _EventForwarder(AsyncJsonWebsocketConsumer):
    group: str = ""

    async def forward(self, event: dict) -> None:
        await self.send_json({"type": event["type"], **event["data"]})

    training_epoch = training_step = training_status = training_log = forward
    monitoring_accuracy = monitoring_drift = monitoring_alert = forward
    registry_activated = forward  # neural/registry/services.py: a model's active version changed

    async def receive(self, text_data: str | None = None, bytes_data: bytes | None = None, **kwargs) -> None:
        """Clients only listen: a JSON text frame is ignored; anything else closes the socket with
        UNSUPPORTED_DATA (channels would raise and drop it without a close frame)."""
        try:
            if text_data is not None:
                await self.decode_json(text_data)
                return
        except (ValueError, RecursionError):
            pass
        await self.close(code=UNSUPPORTED_DATA)

    async def disconnect(self, code: int) -> None:
        if self.group:
            await self.channel_layer.group_discard(self.group, self.channel_name)

    async def _join(self, group: str) -> None:
        self.group = group
        await self.channel_layer.group_add(group, self.channel_name)
        await self.accept()


class SessionConsumer(_EventForwarder):
    """/ws/sessions/{id}/: epochs, status changes and log lines of one training session."""

    async def connect(self) -> None:
        if not self.scope["user"].is_authenticated:
            await self.close(code=UNAUTHORIZED)
            return
        session_id = int(self.scope["url_route"]["kwargs"]["session_id"])
        if not await database_sync_to_async(TrainingSession.objects.filter(pk=session_id).exists)():
            await self.close(code=NOT_FOUND)
            return
        await self._join(session_group(session_id))


class DashboardConsumer(_EventForwarder):
    """/ws/dashboard/: status changes of every session and monitoring events."""

    async def connect(self) -> None:
        if not self.scope["user"].is_authenticated:
            await self.close(code=UNAUTHORIZED)
            return
        await self._join(DASHBOARD_GROUP)
