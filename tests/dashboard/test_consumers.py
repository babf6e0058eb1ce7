from __future__ import annotations

import pytest
from channels.db import database_sync_to_async
from channels.routing import URLRouter
from channels.testing import WebsocketCommunicator
from django.db import connections

from dashboard.auth import TokenAuthMiddleware
from dashboard.routing import websocket_urlpatterns
from neural.engine.config import TrainConfig
from neural.training.services import training_session_create
from photondrift.realtime import session_group
from tests.factories import api_token

pytestmark = pytest.mark.django_db(transaction=True)


@pytest.fixture(autouse=True)
async def close_thread_connections():
    """The database calls of these tests and of the consumers run on asgiref's sync thread; its
    connection would outlive the test run and keep the test database from being dropped."""
    yield
    await database_sync_to_async(connections.close_all)()


def app_with_token():
    return TokenAuthMiddleware(URLRouter(websocket_urlpatterns))


@database_sync_to_async
def a_session(user):
    from tests.factories import make_dataset

    return training_session_create(
        user=user, dataset=make_dataset(), pattern="coordination", config=TrainConfig(epochs=1), enqueue=False
    )


@database_sync_to_async
def token_for(user) -> str:
    return api_token(user)


async def test_it_forwards_epoch_events_to_an_authenticated_client(user):
    session = await a_session(user)
    key = await token_for(user)
    comm = WebsocketCommunicator(
        app_with_token(), f"/ws/sessions/{session.pk}/", headers=[(b"authorization", f"Token {key}".encode())]
    )
    connected, _ = await comm.connect()
    assert connected
    from channels.layers import get_channel_layer

    await get_channel_layer().group_send(
        session_group(session.pk), {"type": "training.epoch", "data": {"epoch": 1, "val_loss": 0.5}}
    )
    message = await comm.receive_json_from(timeout=2)
    assert message == {"type": "training.epoch", "epoch": 1, "val_loss": 0.5}
    await get_channel_layer().group_send(
        session_group(session.pk), {"type": "training.step", "data": {"global_step": 7, "loss": 0.4}}
    )
    assert await comm.receive_json_from(timeout=2) == {"type": "training.step", "global_step": 7, "loss": 0.4}
    await comm.disconnect()


async def test_it_refuses_anonymous_clients(user):
    session = await a_session(user)
    comm = WebsocketCommunicator(app_with_token(), f"/ws/sessions/{session.pk}/")
    connected, code = await comm.connect()
    assert not connected and code == 4401


async def test_it_refuses_an_unknown_session(user):
    key = await token_for(user)
    comm = WebsocketCommunicator(
        app_with_token(), "/ws/sessions/9999/", headers=[(b"authorization", f"Token {key}".encode())]
    )
    connected, code = await comm.connect()
    assert not connected and code == 4404
