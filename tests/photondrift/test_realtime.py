"""broadcast() from sync code: through the Redis pub/sub channel layer on one long-lived loop per
process (a training thread's frames), through the server's own loop for the in-memory layer."""

from __future__ import annotations

import asyncio
import threading

import pytest
import redis
from channels.layers import channel_layers

from photondrift import realtime


@pytest.fixture
def redis_layer(settings):
    try:
        redis.Redis.from_url(settings.TEST_REDIS_URL, socket_timeout=1).flushdb()
    except redis.RedisError:
        if settings.CI:
            pytest.fail("CI=true and Redis is not reachable at TEST_REDIS_URL")
        pytest.skip("Redis is not reachable at TEST_REDIS_URL")
    settings.CHANNEL_LAYERS = {
        "default": {
            "BACKEND": "channels_redis.pubsub.RedisPubSubChannelLayer",
            "CONFIG": {"hosts": [settings.TEST_REDIS_URL]},
        }
    }
    channel_layers.backends.clear()
    yield channel_layers["default"]
    channel_layers.backends.clear()


def test_frames_from_plain_threads_reach_a_listener_in_order_over_one_loop(redis_layer):
    async def listen(n: int) -> list[dict]:
        name = await redis_layer.new_channel()
        await redis_layer.group_add("training.77", name)
        ready.set()
        return [await asyncio.wait_for(redis_layer.receive(name), 10) for _ in range(n)]

    ready = threading.Event()
    got: list = []
    listener = threading.Thread(target=lambda: got.extend(asyncio.run(listen(6))))
    listener.start()
    assert ready.wait(10)

    def send(first: int) -> None:  # a worker's training thread: no event loop of its own
        for epoch in range(first, first + 3):
            realtime.broadcast("training.77", "training.epoch", {"epoch": epoch})

    for first in (1, 4):
        sender = threading.Thread(target=send, args=(first,))
        sender.start()
        sender.join()
    listener.join(20)
    assert [m["data"]["epoch"] for m in got] == [1, 2, 3, 4, 5, 6]
    assert all(m["type"] == "training.epoch" for m in got)
    loops = {realtime._SENDER.loop()}
    realtime.broadcast("training.77", "training.log", {"message": "x"})
    assert loops == {realtime._SENDER.loop()} and realtime._SENDER.loop().is_running()


def test_a_broadcast_that_cannot_reach_redis_is_logged_not_raised(settings, caplog):
    settings.CHANNEL_LAYERS = {
        "default": {
            "BACKEND": "channels_redis.pubsub.RedisPubSubChannelLayer",
            "CONFIG": {"hosts": ["redis://127.0.0.1:1/0"]},
        }
    }
    channel_layers.backends.clear()
    try:
        realtime.broadcast("training.78", "training.epoch", {"epoch": 1})
    finally:
        channel_layers.backends.clear()
    assert "broadcast of training.epoch to training.78 failed" in caplog.text
