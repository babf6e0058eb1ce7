"""The predict throttle's sliding window (neural/api/throttles.py): leases of slots per process, the
limit held across processes, unused slots given back; on the per-process cache and on Redis."""

from __future__ import annotations

import pytest
import redis
from django.conf import settings as django_settings
from django.core.cache import caches
from rest_framework.throttling import ScopedRateThrottle

from neural.api import throttles
from neural.api.throttles import LEASE_S, SlidingWindow


class Clock:
    def __init__(self, start: float = 1_000_000.0) -> None:
        self.now = start

    def __call__(self) -> float:
        return self.now


@pytest.fixture(params=["locmem", "redis"])
def backend(request, settings):
    if request.param == "redis":
        url = django_settings.TEST_REDIS_URL
        try:
            redis.Redis.from_url(url, socket_timeout=1).ping()
        except redis.RedisError:
            if django_settings.CI:
                pytest.fail(f"CI=true and no Redis at {url}")
            pytest.skip(f"no Redis at {url}")
        settings.CACHES = {"default": {"BACKEND": "django.core.cache.backends.redis.RedisCache", "LOCATION": url}}
    caches["default"].clear()
    yield request.param
    caches["default"].clear()


@pytest.fixture
def clock(monkeypatch):
    clock = Clock()
    monkeypatch.setattr(throttles.time, "time", clock)
    return clock


def _spend(window: SlidingWindow, n: int, limit: int, key: str = "throttle_predict_1") -> list[bool]:
    return [window.take(key, limit, 60.0) is None for _ in range(n)]


def test_it_leases_a_hundredth_of_the_rate_and_never_lets_more_than_the_limit_through(backend, clock):
    one, two = SlidingWindow(), SlidingWindow()  # two server processes
    allowed = 0
    for _ in range(400):
        allowed += _spend(one, 1, 300)[0]
        allowed += _spend(two, 1, 300)[0]
    assert allowed == 300  # each process spent its leases (3 slots each) to the end
    wait = one.take("throttle_predict_1", 300, 60.0)
    assert wait == pytest.approx(60.0 + LEASE_S)  # the first slots were leased ahead, so they free later
    clock.now += 60.0 + LEASE_S + 0.001
    assert all(_spend(one, 3, 300))


def test_a_lease_gives_back_its_unused_slots_when_it_ends(backend, clock):
    one, two = SlidingWindow(), SlidingWindow()
    assert _spend(one, 1, 300) == [True]  # leases 3, uses 1
    assert sum(_spend(two, 300, 300)) == 297  # two slots are still one's
    clock.now += LEASE_S + 0.001  # one's lease ends unused
    # Gives its 2 unused slots back (else all 300 would be taken) and leases them again.
    assert _spend(one, 3, 300) == [True, True, False]
    assert _spend(two, 1, 300) == [False]


def test_a_small_rate_counts_each_request_at_its_own_time(backend, clock):
    window = SlidingWindow()
    assert _spend(window, 3, 2) == [True, True, False]
    clock.now += 30.0
    assert _spend(window, 1, 2) == [False]
    clock.now += 30.001
    assert _spend(window, 2, 2) == [True, True]


def test_a_count_left_by_drf_s_own_throttle_is_no_error(api, backend, user):
    """Keys of the throttle this one replaced (a pickled list under DRF's key) may still be there."""
    caches["default"].set(f"throttle_predict_{user.pk}", [1.0, 2.0], 60)
    body = {"model": "no-such-model", "input": {"a": 1}}
    assert api.post("/api/v1/neural/predict", body, format="json").status_code == 404


def test_predict_is_throttled_on_redis_too(api, backend, monkeypatch):
    monkeypatch.setitem(ScopedRateThrottle.THROTTLE_RATES, "predict", "2/min")
    body = {"model": "no-such-model", "input": {"a": 1}}
    codes = [api.post("/api/v1/neural/predict", body, format="json").status_code for _ in range(3)]
    assert codes == [404, 404, 429]
    retry = api.post("/api/v1/neural/predict", body, format="json")["Retry-After"]
    assert 55 <= int(retry) <= 60
