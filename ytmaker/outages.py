"""Riding out an outage of the database or Redis where it happens: infrastructure is not a provider.

A lost connection to our own database or Redis says nothing about the
stage's work, so it must not cost the stage one of its retries, nor a
provider's backoff of minutes. :func:`outlast` runs a step and, when it
fails on a lost connection, waits until both answer again (short capped
backoff: a quarter second first, :data:`MAX_WAIT_S` at most), then runs the
step again (every step given to it is safe to repeat), for as long as the
deadline allows: a stage's time limit. Past it, the error goes on to the
stage's retries as before.

:class:`OutageLog` keeps the logs of a thread that meets an outage to one
warning when it starts and one line when it is over, however many times the
thread tries meanwhile.
"""

from __future__ import annotations

import threading
import time
from collections.abc import Callable
from typing import Any, TypeVar

import structlog

log = structlog.get_logger(__name__)

T = TypeVar("T")
#: a ytmaker.runtime.Runtime (its db, redis, progress, keys, settings); not imported, so the ticker and the
#: middleware that use this module stay below the runtime
Runtime = Any

#: first wait after a lost connection, and the longest between two checks (seconds)
FIRST_WAIT_S, MAX_WAIT_S = 0.25, 3.0
#: while this key exists, the recovery pass does not take over stages whose heartbeat fell silent in the outage
OUTAGE_KEY = "ytmaker:outage:database"


def connection_lost(exc: BaseException) -> str | None:
    """"the database" or "Redis" when ``exc`` (or what it was raised from) is a lost connection to it; else None."""
    seen: set[int] = set()
    current: BaseException | None = exc
    while current is not None and id(current) not in seen:
        seen.add(id(current))
        found = _lost(current)
        if found:
            return found
        current = current.__cause__ or current.__context__
    return None


def _lost(exc: BaseException) -> str | None:
    module, name = type(exc).__module__, type(exc).__name__
    if module.startswith("sqlalchemy"):
        if getattr(exc, "connection_invalidated", False) or name in {"DisconnectionError", "TimeoutError"}:
            return "the database"
        orig = getattr(exc, "orig", None)
        return _lost(orig) if orig is not None else None
    if module.startswith("psycopg"):
        import psycopg

        return "the database" if isinstance(exc, psycopg.OperationalError) else None
    if module == "sqlite3":  # a writer held the file past the busy timeout
        return "the database" if "locked" in str(exc) or "busy" in str(exc) else None
    if module.startswith("redis"):
        import redis

        return "Redis" if isinstance(exc, (redis.ConnectionError, redis.TimeoutError, redis.BusyLoadingError,
                                           redis.ReadOnlyError)) else None
    if module.startswith("dramatiq"):
        from dramatiq.errors import ConnectionError as BrokerConnectionError

        return "Redis" if isinstance(exc, BrokerConnectionError) else None
    return None


def unreachable(rt: Runtime) -> str | None:
    """Which of the database and Redis does not answer now (the database first), or None when both do."""
    from sqlalchemy import text

    try:
        with rt.db.single() as session:
            session.execute(text("select 1"))
    except Exception:  # noqa: BLE001 - any failure here means: not yet
        return "the database"
    if rt.redis is not None:
        try:
            rt.redis.ping()
        except Exception:  # noqa: BLE001
            return "Redis"
    return None


def wait_out(rt: Runtime, what: str, deadline: float, *, project_id: str | None = None,
             sleep: Callable[[float], None] = time.sleep) -> bool:
    """Wait until the database and Redis answer, or until ``deadline`` (monotonic); True if they do."""
    started, delay, reported = time.monotonic(), FIRST_WAIT_S, ""
    log.warning("waiting_for_dependency", dependency=what, project_id=project_id)
    while True:
        down = unreachable(rt)
        if down is None:
            log.info("dependency_recovered", dependency=what, project_id=project_id,
                     waited_s=round(time.monotonic() - started, 2))
            return True
        if down != reported:
            reported = down
            _note(rt, down, project_id)
        remaining = deadline - time.monotonic()
        if remaining <= 0:
            log.warning("dependency_still_down", dependency=down, project_id=project_id,
                        waited_s=round(time.monotonic() - started, 2))
            return False
        sleep(min(delay, remaining))
        delay = min(MAX_WAIT_S, delay * 2)


def _note(rt: Runtime, down: str, project_id: str | None) -> None:
    # Progress is written when Redis is there (the writer thread sends it when it can); the outage key keeps
    # the recovery pass from taking over the stages whose heartbeats this outage silenced.
    try:
        if project_id is not None:
            rt.progress.update(project_id, message=f"waiting for {down}")
        if down == "the database":
            rt.keys.set(OUTAGE_KEY, "1", ttl_s=outage_grace_s(rt))
    except Exception:  # noqa: BLE001 - Redis is down too: nothing to tell it
        pass


def outage_grace_s(rt: Runtime) -> float:
    """How long after the database's return the recovery pass leaves silent stages alone (their beats resume meanwhile)."""
    return rt.settings.stage_lease_s + 2 * rt.settings.stage_heartbeat_s


def outlast(rt: Runtime, step: Callable[[], T], *, deadline: float, project_id: str | None = None,
            again: Callable[[], T] | None = None) -> T:
    """Run ``step``; after a lost connection, wait for it to come back and run ``again`` (default: ``step``) until it succeeds.

    Gives up, raising the last error, once ``deadline`` (monotonic) has passed.
    """
    attempt = step
    while True:
        try:
            return attempt()
        except Exception as exc:
            what = connection_lost(exc)
            if what is None or time.monotonic() >= deadline:
                raise
            if not wait_out(rt, what, deadline, project_id=project_id):
                raise
            attempt = again or step


class OutageLog:
    """One warning when a dependency starts failing for this thread of work, one line when it answers again."""

    def __init__(self, what: str) -> None:
        self.what = what
        self._lock = threading.Lock()
        self._since: float | None = None
        self.failures = 0

    def failed(self, exc: BaseException, **context: object) -> None:
        with self._lock:
            self.failures += 1
            if self._since is not None:
                return
            self._since = time.monotonic()
        log.warning(f"{self.what}_failing", error=f"{type(exc).__name__}: {exc}"[:300], **context)

    def succeeded(self, *, started: float | None = None, **context: object) -> None:
        """The dependency answered; ``started`` (time.monotonic) is when the call began: a call that began before the
        outage was noted and came back after it (another thread's, in flight) does not end it."""
        if self._since is None:
            return
        with self._lock:
            if self._since is None or (started is not None and started < self._since):
                return
            since, failures, self._since, self.failures = self._since, self.failures, None, 0
        if since is not None:
            log.info(f"{self.what}_recovered", down_s=round(time.monotonic() - since, 2), failures=failures, **context)
