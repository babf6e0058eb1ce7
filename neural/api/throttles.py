"""The predict throttle: ``PREDICT_THROTTLE_RATE`` requests per user in any sliding window (DRF's
rate syntax and 429 answer), without a cache round trip on most predictions.

DRF's own ``ScopedRateThrottle`` keeps every request's time in one cached list that each request
reads and writes back whole: two round trips and, at 6000/min, 6000 pickled floats each way (two
thirds of a single-row prediction's time on this machine). Here the window is a Redis sorted set
(one member per request, scored by its time) changed by one Lua script, atomically, and each
process takes a *lease* of up to 1/``LEASE_SHARE`` of the rate's slots (``LEASE_MAX`` at most) at
a time, spent without asking again for at most ``LEASE_S``:

- a leased slot is scored ``LEASE_S`` in the future, so that a request made with it at any time
  within the lease still counts for a whole window after it was made: the limit holds in every
  window, as before, never looser (a request counts up to ``LEASE_S`` longer than before);
- the next call for the same user gives back the slots of the previous lease it did not use;
- a rate under ``LEASE_SHARE`` per window takes one slot at a time, scored at its own time:
  exactly DRF's sliding window.

Without Redis (tests, the embedded mode) the same steps run on a list in Django's (per-process)
cache, under a lock.
"""

from __future__ import annotations

import threading
import time
import uuid
from dataclasses import dataclass

from django.core.cache import caches
from django.core.cache.backends.redis import RedisCache
from rest_framework.throttling import ScopedRateThrottle

LEASE_S = 1.0
LEASE_SHARE = 100
LEASE_MAX = 100  # slots: one round trip per 100 requests is enough, whatever the rate

# KEYS[1] the user's window; ARGV: now, window (s), limit, slots wanted, their score, the new
# lease's id, the previous lease's id and the range of its unused slot numbers (first, last).
# Returns {slots granted, seconds until one frees (as a string: Lua numbers reach Redis as integers)}.
_TAKE = """
local key, now, window = KEYS[1], tonumber(ARGV[1]), tonumber(ARGV[2])
local limit, want, score, lease = tonumber(ARGV[3]), tonumber(ARGV[4]), tonumber(ARGV[5]), ARGV[6]
for i = tonumber(ARGV[8]), tonumber(ARGV[9]) do redis.call('ZREM', key, ARGV[7] .. ':' .. i) end
redis.call('ZREMRANGEBYSCORE', key, '-inf', now - window)
local grant = math.min(want, limit - redis.call('ZCARD', key))
if grant <= 0 then
  local oldest = redis.call('ZRANGE', key, 0, 0, 'WITHSCORES')
  return {0, tostring((tonumber(oldest[2]) or now) + window - now)}
end
for i = 0, grant - 1 do redis.call('ZADD', key, score, lease .. ':' .. i) end
redis.call('EXPIRE', key, math.ceil(score - now + window) + 1)
return {grant, '0'}
"""


@dataclass
class _Lease:
    id: str
    granted: int
    used: int
    until: float


class SlidingWindow:
    """The shared windows and this process's leases on them."""

    def __init__(self) -> None:
        self._leases: dict[str, _Lease] = {}
        self._lock = threading.Lock()

    def take(self, key: str, limit: int, window: float) -> float | None:
        """Spend one slot of ``key``'s window: None when allowed, else the seconds to wait."""
        if limit <= 0:
            return window
        now = time.time()
        with self._lock:
            lease = self._leases.get(key)
            if lease is not None and lease.used < lease.granted and lease.until > now:
                lease.used += 1
                return None
            self._leases.pop(key, None)
            if len(self._leases) >= 10_000:
                self._leases.clear()  # forgotten leases' slots count until their window ends
        want = max(1, min(limit // LEASE_SHARE, LEASE_MAX))
        score = now if want == 1 else now + LEASE_S
        new = _Lease(uuid.uuid4().hex, 0, 1, now + LEASE_S)
        old = (lease.id, lease.used, lease.granted - 1) if lease is not None else ("", 1, 0)
        granted, wait = self._run(key, [now, window, limit, want, score, new.id, *old])
        if granted == 0:
            return max(0.0, wait)
        if granted > 1:
            new.granted = granted
            with self._lock:
                self._leases[key] = new
        return None

    def _run(self, key: str, args: list) -> tuple[int, float]:
        cache = caches["default"]
        if isinstance(cache, RedisCache):
            script = cache._cache.get_client(key, write=True).register_script(_TAKE)
            granted, wait = script(keys=[cache.make_and_validate_key(key)], args=args)
            return int(granted), float(wait)
        with self._lock:
            return _take_locally(cache, key, *args)

    def forget(self) -> None:
        with self._lock:
            self._leases.clear()


def _take_locally(cache, key, now, window, limit, want, score, lease, old, first, last) -> tuple[int, float]:
    """``_TAKE`` on a list of (score, member) in Django's cache (not shared between processes)."""
    unused = {f"{old}:{i}" for i in range(first, last + 1)}
    members = [(s, m) for s, m in cache.get(key, []) if m not in unused and s > now - window]
    grant = min(want, limit - len(members))
    if grant <= 0:
        return 0, min((s for s, _ in members), default=now) + window - now
    members += [(score, f"{lease}:{i}") for i in range(grant)]
    cache.set(key, members, int(score - now + window) + 1)
    return grant, 0.0


windows = SlidingWindow()


class PredictRateThrottle(ScopedRateThrottle):
    """``ScopedRateThrottle`` (a view's ``throttle_scope``, the rate from ``DEFAULT_THROTTLE_RATES``,
    per user, per address for anonymous callers) on ``windows``."""

    # Not DRF's key: a key left by its throttle holds a pickled list, which the script would refuse.
    cache_format = "throttle_window_%(scope)s_%(ident)s"

    def allow_request(self, request, view) -> bool:
        self.scope = getattr(view, self.scope_attr, None)
        if not self.scope:
            return True
        self.rate = self.get_rate()
        self.num_requests, self.duration = self.parse_rate(self.rate)
        key = self.get_cache_key(request, view) if self.rate is not None else None
        if key is None:
            return True
        self._wait = windows.take(key, self.num_requests, self.duration)
        return self._wait is None

    def wait(self) -> float | None:
        return self._wait
