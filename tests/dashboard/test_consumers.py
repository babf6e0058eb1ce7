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


@pytest.mark.parametrize("frame", [{"text_data": "not json"}, {"bytes_data": b"\x00\x01"}, {"text_data": "[" * 5000}])
async def test_it_closes_with_a_code_on_a_frame_that_is_not_json(user, frame):
    key = await token_for(user)
    comm = WebsocketCommunicator(
        app_with_token(), "/ws/dashboard/", headers=[(b"authorization", f"Token {key}".encode())]
    )
    connected, _ = await comm.connect()
    assert connected
    await comm.send_to(**frame)
    assert await comm.receive_output(timeout=2) == {"type": "websocket.close", "code": 1003}
    await comm.wait()


async def test_it_ignores_a_json_frame(user):
    key = await token_for(user)
    comm = WebsocketCommunicator(
        app_with_token(), "/ws/dashboard/", headers=[(b"authorization", f"Token {key}".encode())]
    )
    assert (await comm.connect())[0]
    await comm.send_json_to({"ping": 1})
    assert await comm.receive_nothing(timeout=0.2)
    await comm.disconnect()
