"""A request rate shared by every worker: a sliding-window log, in Redis or in this process.

Each permitted request is logged with the time it was let through; a request
is let through while fewer than ``limit`` are logged within the last
``window_s`` seconds, otherwise it waits until the oldest leaves the window.
A provider that says "too many requests" can ``lock_out`` everyone for its
penalty. A wait longer than ``max_wait_s`` is not waited out: it becomes a
ProviderUnavailable whose ``retry_after`` the stage retries honour.

* :class:`RedisRateLimiter` - every process that uses the same ``name``. The
  log is a sorted set scored by Redis's own clock, so workers on different
  machines agree on time; one Lua script trims the window, counts and admits.
* :class:`MemoryRateLimiter` - the threads that share this one object
  (embedded mode), on this process's monotonic clock.
"""

from __future__ import annotations

import threading
import time
import uuid
from collections import deque
from collections.abc import Callable
from typing import Any, Protocol

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


class RateLimiter(Protocol):
    """Takes a slot before each request to a provider."""

    def acquire(self) -> float:
        """Wait for a slot and take it; returns the seconds waited (ProviderUnavailable past ``max_wait_s``)."""

    def lock_out(self, seconds: float) -> None:
        """Hold every request for ``seconds`` (the provider's penalty for going over)."""


def _check(limit: int, window_s: float) -> None:
    if limit < 1 or window_s <= 0:
        raise ValueError("a rate limit needs limit >= 1 and a positive window")


def _wait_for_slot(try_once: Callable[[], float], *, max_wait_s: float, sleep: Callable[[float], None],
                   refusal: str) -> float:
    """Call ``try_once`` (0 when admitted, else seconds to wait) until admitted; returns the seconds waited."""
    waited = 0.0
    while True:
        wait_s = try_once()
        if wait_s <= 0:
            return waited
        if waited + wait_s > max_wait_s:
            raise ProviderUnavailable(refusal, retry_after=wait_s)
        sleep(wait_s)
        waited += wait_s


class RedisRateLimiter:
    """At most ``limit`` requests per ``window_s`` seconds for ``name``, across all processes."""

    def __init__(self, redis: Any, *, name: str, limit: int, window_s: float, max_wait_s: float = DEFAULT_MAX_WAIT_S,
                 sleep: Callable[[float], None] = time.sleep) -> None:
        _check(limit, window_s)
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
        member = uuid.uuid4().hex

        def try_once() -> float:
            return int(self._script(keys=[self._window_key, self._lockout_key],
                                    args=[self.limit, self.window_ms, member])) / 1000

        return _wait_for_slot(try_once, max_wait_s=self.max_wait_s, sleep=self.sleep,
                              refusal=f"request rate limit reached ({self.limit} per {self.window_ms / 1000:g} s, "
                                      "shared by all workers); trying again later")

    def lock_out(self, seconds: float) -> None:
        """Hold every worker's requests for ``seconds`` (the provider's penalty for going over)."""
        if seconds > 0:
            self.redis.set(self._lockout_key, b"1", px=max(1, round(seconds * 1000)))


class MemoryRateLimiter:
    """At most ``limit`` requests per ``window_s`` seconds through this object, across its threads."""

    def __init__(self, *, name: str, limit: int, window_s: float, max_wait_s: float = DEFAULT_MAX_WAIT_S,
                 sleep: Callable[[float], None] = time.sleep) -> None:
        _check(limit, window_s)
        self.name = name
        self.limit = limit
        self.window_s = window_s
        self.max_wait_s = max_wait_s
        self.sleep = sleep
        self._admitted: deque[float] = deque()  # monotonic times, oldest first
        self._locked_until = 0.0
        self._lock = threading.Lock()

    def acquire(self) -> float:
        """Wait for a slot and take it; returns the seconds waited.

        Raises ProviderUnavailable (with ``retry_after``) instead of waiting
        longer than ``max_wait_s`` in total, so a long lockout frees the worker.
        """
        return _wait_for_slot(self._try_once, max_wait_s=self.max_wait_s, sleep=self.sleep,
                              refusal=f"request rate limit reached ({self.limit} per {self.window_s:g} s, "
                                      "shared by this process's workers); trying again later")

    def _try_once(self) -> float:
        with self._lock:
            now = time.monotonic()
            if self._locked_until > now:
                return self._locked_until - now
            while self._admitted and self._admitted[0] <= now - self.window_s:
                self._admitted.popleft()
            if len(self._admitted) < self.limit:
                self._admitted.append(now)
                return 0.0
            return max(0.001, self._admitted[0] + self.window_s - now)

    def lock_out(self, seconds: float) -> None:
        """Hold every thread's requests for ``seconds`` (the provider's penalty for going over)."""
        if seconds > 0:
            with self._lock:
                self._locked_until = time.monotonic() + seconds
