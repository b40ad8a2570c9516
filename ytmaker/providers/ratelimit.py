"""A request rate shared by every worker, kept in Redis (a sliding-window log).

Each permitted request adds a member to a sorted set scored by Redis's own
clock, so workers on different machines agree on time. One Lua script trims
the window, counts and admits atomically; when the window is full it answers
how long until the oldest request leaves it. A provider that says "too many
requests" can :meth:`RedisRateLimiter.lock_out` everyone for its penalty.
"""

from __future__ import annotations

import time
import uuid
from collections.abc import Callable

from ytmaker.errors import ProviderUnavailable

#: The longest a caller waits for a slot inside one call before handing the wait to the stage retries.
DEFAULT_MAX_WAIT_S = 30.0

# KEYS[1] window (sorted set), KEYS[2] lockout; ARGV[1] limit, ARGV[2] window ms, ARGV[3] member.
# Returns 0 when admitted, else the milliseconds to wait before asking again.
_ACQUIRE = """
local t = redis.call('TIME')
local now = tonumber(t[1]) * 1000 + math.floor(tonumber(t[2]) / 1000)
local limit, window = tonumber(ARGV[1]), tonumber(ARGV[2])
local locked = redis.call('PTTL', KEYS[2])
if locked > 0 then return locked end
redis.call('ZREMRANGEBYSCORE', KEYS[1], '-inf', now - window)
if redis.call('ZCARD', KEYS[1]) < limit then
  redis.call('ZADD', KEYS[1], now, ARGV[3])
  redis.call('PEXPIRE', KEYS[1], window)
  return 0
end
local oldest = redis.call('ZRANGE', KEYS[1], 0, 0, 'WITHSCORES')
return math.max(1, tonumber(oldest[2]) + window - now)
"""


class RedisRateLimiter:
    """At most ``limit`` requests per ``window_s`` seconds for ``name``, across all processes."""

    def __init__(self, redis, *, name: str, limit: int, window_s: float, max_wait_s: float = DEFAULT_MAX_WAIT_S,
                 sleep: Callable[[float], None] = time.sleep) -> None:
        if limit < 1 or window_s <= 0:
            raise ValueError("a rate limit needs limit >= 1 and a positive window")
        self.redis = redis
        self.limit = limit
        self.window_ms = max(1, round(window_s * 1000))
        self.max_wait_s = max_wait_s
        self.sleep = sleep
        self._window_key = f"ytmaker:ratelimit:{name}"
        self._lockout_key = f"ytmaker:ratelimit:{name}:lockout"
        self._script = redis.register_script(_ACQUIRE)

    def acquire(self) -> float:
        """Wait for a slot and take it; returns the seconds waited.

        Raises ProviderUnavailable (with ``retry_after``) instead of waiting
        longer than ``max_wait_s`` in total, so a long lockout frees the worker.
        """
        waited = 0.0
        member = uuid.uuid4().hex
        while True:
            wait_ms = int(self._script(keys=[self._window_key, self._lockout_key],
                                       args=[self.limit, self.window_ms, member]))
            if wait_ms <= 0:
                return waited
            wait_s = wait_ms / 1000
            if waited + wait_s > self.max_wait_s:
                raise ProviderUnavailable(f"request rate limit reached ({self.limit} per {self.window_ms / 1000:g} s, "
                                          "shared by all workers); trying again later", retry_after=wait_s)
            self.sleep(wait_s)
            waited += wait_s

    def lock_out(self, seconds: float) -> None:
        """Hold every worker's requests for ``seconds`` (the provider's penalty for going over)."""
        if seconds > 0:
            self.redis.set(self._lockout_key, b"1", px=max(1, round(seconds * 1000)))
