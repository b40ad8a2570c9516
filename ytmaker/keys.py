"""Small coordination values: cancel flags, the avatar poll chain's id, the recovery pass's lock.

A :class:`Keys` store holds short strings by name, each perhaps with an
expiry. ``set(..., only_if_absent=True)`` is the one atomic test-and-set the
callers need (a lock: the first writer wins until the value expires or is
deleted). :class:`RedisKeys` is shared by every process; :class:`MemoryKeys`
serves the threads of one process, for embedded mode.
"""

from __future__ import annotations

import heapq
import threading
import time
from typing import Any, Protocol


class Keys(Protocol):
    """Short string values by name, with optional expiry."""

    def set(self, key: str, value: str, *, ttl_s: float | None = None, only_if_absent: bool = False) -> bool:
        """Write ``value`` (expiring after ``ttl_s`` seconds if given); True if written.

        With ``only_if_absent`` nothing is written while ``key`` holds a value.
        """

    def get(self, key: str) -> str | None:
        """The value, or None if absent or expired."""

    def delete(self, key: str) -> None:
        """Remove ``key``; nothing happens if it is absent."""

    def exists(self, key: str) -> bool:
        """Whether ``key`` holds a value."""


def _ttl_ms(ttl_s: float) -> int:
    if ttl_s <= 0:
        raise ValueError(f"an expiry must be positive, not {ttl_s!r} s")
    return max(1, round(ttl_s * 1000))


class RedisKeys:
    """Keys in Redis, under the names given."""

    def __init__(self, redis: Any) -> None:
        self.redis = redis

    def set(self, key: str, value: str, *, ttl_s: float | None = None, only_if_absent: bool = False) -> bool:
        px = None if ttl_s is None else _ttl_ms(ttl_s)
        return bool(self.redis.set(key, value, px=px, nx=only_if_absent))

    def get(self, key: str) -> str | None:
        value = self.redis.get(key)
        return value.decode() if isinstance(value, bytes) else value

    def delete(self, key: str) -> None:
        self.redis.delete(key)

    def exists(self, key: str) -> bool:
        return bool(self.redis.exists(key))


class MemoryKeys:
    """Keys in a dict under a lock; an expired key is gone at the next call that looks."""

    def __init__(self) -> None:
        self._values: dict[str, tuple[str, float | None]] = {}  # key -> (value, expires at or None)
        self._expiries: list[tuple[float, str]] = []  # a heap, so expired keys leave without a scan
        self._lock = threading.Lock()

    def set(self, key: str, value: str, *, ttl_s: float | None = None, only_if_absent: bool = False) -> bool:
        expires_at = None if ttl_s is None else time.monotonic() + _ttl_ms(ttl_s) / 1000
        with self._lock:
            self._expire()
            if only_if_absent and key in self._values:
                return False
            self._values[key] = (value, expires_at)
            if expires_at is not None:
                heapq.heappush(self._expiries, (expires_at, key))
            return True

    def get(self, key: str) -> str | None:
        with self._lock:
            self._expire()
            entry = self._values.get(key)
            return None if entry is None else entry[0]

    def delete(self, key: str) -> None:
        with self._lock:
            self._values.pop(key, None)

    def exists(self, key: str) -> bool:
        with self._lock:
            self._expire()
            return key in self._values

    def _expire(self) -> None:
        now = time.monotonic()
        while self._expiries and self._expiries[0][0] <= now:
            expires_at, key = heapq.heappop(self._expiries)
            entry = self._values.get(key)
            if entry is not None and entry[1] == expires_at:  # not rewritten since with another expiry
                del self._values[key]
