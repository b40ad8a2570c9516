"""One subscription per process, fanned out to every stream the process serves.

The progress store publishes the whole hash after each change. The hub
listens once per API process (Redis: one pattern subscription on the
progress channels through ``redis.asyncio``; embedded mode: a listener on the
in-process store) and hands each snapshot, encoded once, to the
:class:`Listener` of every stream that follows the project (or every
project). A listener keeps only the newest snapshot of each project: each one
is the whole state, so a slow reader skips stale ones instead of queueing
them, and a thousand idle streams cost a thousand small objects.
"""

from __future__ import annotations

import asyncio
import contextlib
import json
from dataclasses import dataclass, field
from typing import Any

import structlog

from ytmaker.progress import PREFIX, TERMINAL_STATUSES, MemoryProgressStore, ProgressStore

log = structlog.get_logger(__name__)

#: seconds between attempts to subscribe again after Redis went away
RESUBSCRIBE_S = 1.0


@dataclass(frozen=True)
class Snapshot:
    """A project's progress hash at one ``seq``, with its SSE encoding made once for every stream."""

    project_id: str
    seq: int
    fields: dict[str, str]
    data: str = field(repr=False)  # JSON of the fields plus project_id

    @classmethod
    def of(cls, project_id: str, fields: dict[str, str]) -> Snapshot:
        try:
            seq = int(fields.get("seq", "0"))
        except ValueError:
            seq = 0
        return cls(project_id, seq, fields, json.dumps({**fields, "project_id": project_id}, separators=(",", ":")))

    @property
    def terminal(self) -> bool:
        return self.fields.get("status") in TERMINAL_STATUSES

    def sse(self, *, with_id: bool = True) -> bytes:
        head = f"id: {self.seq}\n" if with_id else ""
        return f"{head}event: progress\ndata: {self.data}\n\n".encode()


class Listener:
    """What one stream has not sent yet: the newest snapshot per project, or that a heartbeat is due."""

    def __init__(self, project_id: str | None) -> None:
        self.project_id = project_id  # None: every project
        self._pending: dict[str, Snapshot] = {}
        self._ready = asyncio.Event()
        self._quiet = True  # nothing offered since the hub's last heartbeat tick

    def offer(self, snapshot: Snapshot) -> None:
        current = self._pending.get(snapshot.project_id)
        if current is None or snapshot.seq >= current.seq:
            self._pending[snapshot.project_id] = snapshot
            self._quiet = False
            self._ready.set()

    def tick(self) -> None:
        """The hub's heartbeat: wake a stream that was quiet for a whole period, so it sends a ping."""
        if self._quiet:
            self._ready.set()
        self._quiet = True

    async def wait(self) -> list[Snapshot]:
        """The snapshots offered since the last call (oldest project first); [] when a heartbeat is due."""
        if not self._pending:
            await self._ready.wait()
        self._ready.clear()
        pending, self._pending = list(self._pending.values()), {}
        return pending


class Hub:
    """The process's single progress subscription and the listeners it feeds (all on one event loop)."""

    def __init__(self, progress: ProgressStore, redis_url: str | None, *, heartbeat_s: float) -> None:
        self.progress = progress
        self.redis_url = redis_url
        self.heartbeat_s = heartbeat_s  # one timer for every stream, not one per stream and event
        self._by_project: dict[str, set[Listener]] = {}
        self._everything: set[Listener] = set()
        self._task: asyncio.Task | None = None
        self._ticker: asyncio.Task | None = None
        self._stop_listening: Any = None
        self._redis: Any = None
        self.connected = asyncio.Event()
        self._tried = asyncio.Event()  # the first subscription attempt is over, whichever way it went

    @property
    def listeners(self) -> int:
        return sum(len(s) for s in self._by_project.values()) + len(self._everything)

    async def start(self) -> None:
        loop = asyncio.get_running_loop()
        self._ticker = asyncio.create_task(self._tick_forever(), name="ytmaker-hub-heartbeat")
        if isinstance(self.progress, MemoryProgressStore):
            self._stop_listening = self.progress.listen(
                lambda pid, fields: self._post(loop, pid, fields))
            self.connected.set()
            return
        import redis.asyncio as aioredis

        self._redis = aioredis.Redis.from_url(self.redis_url or "", health_check_interval=30)
        self._task = asyncio.create_task(self._follow_redis(), name="ytmaker-hub")
        with contextlib.suppress(TimeoutError):  # Redis down at start: /readyz says so, the hub keeps trying
            async with asyncio.timeout(5):
                await self._tried.wait()

    def _post(self, loop: asyncio.AbstractEventLoop, project_id: str, fields: dict[str, str]) -> None:
        # runs in the writing stage's thread: it must never fail the write (a loop closed before stop() is no reason)
        with contextlib.suppress(RuntimeError):
            loop.call_soon_threadsafe(self.publish, project_id, fields)

    async def _tick_forever(self) -> None:
        while True:
            await asyncio.sleep(self.heartbeat_s)
            for listener in [*self._everything, *(x for s in self._by_project.values() for x in s)]:
                listener.tick()

    async def stop(self) -> None:
        if self._stop_listening is not None:
            self._stop_listening()
        for task in (self._task, self._ticker):
            if task is not None:
                task.cancel()
                with contextlib.suppress(asyncio.CancelledError):
                    await task
        if self._redis is not None:
            await self._redis.aclose()

    def add(self, listener: Listener) -> Listener:
        if listener.project_id is None:
            self._everything.add(listener)
        else:
            self._by_project.setdefault(listener.project_id, set()).add(listener)
        return listener

    def remove(self, listener: Listener) -> None:
        if listener.project_id is None:
            self._everything.discard(listener)
            return
        followers = self._by_project.get(listener.project_id)
        if followers is not None:
            followers.discard(listener)
            if not followers:
                del self._by_project[listener.project_id]

    def publish(self, project_id: str, fields: dict[str, str]) -> None:
        """Hand a snapshot to every listener of its project and of every project (on the loop's thread)."""
        followers = self._by_project.get(project_id)
        if not followers and not self._everything:
            return
        snapshot = Snapshot.of(project_id, fields)
        for listener in (*(followers or ()), *self._everything):
            listener.offer(snapshot)

    async def _follow_redis(self) -> None:
        while True:
            pubsub = self._redis.pubsub()
            try:
                await pubsub.psubscribe(PREFIX + "*")
                resync = self.connected.is_set()  # a reconnection: what changed meanwhile was not heard
                self.connected.set()
                self._tried.set()
                if resync:
                    await self._resync()
                async for message in pubsub.listen():
                    if message["type"] != "pmessage":
                        continue
                    channel = message["channel"].decode()
                    self.publish(channel[len(PREFIX):], json.loads(message["data"]))
            except asyncio.CancelledError:
                raise
            except Exception as exc:  # noqa: BLE001 - Redis went away: subscribe again; streams keep their heartbeats
                log.warning("hub_subscription_lost", error=type(exc).__name__)
                self._tried.set()
                await asyncio.sleep(RESUBSCRIBE_S)
            finally:
                with contextlib.suppress(Exception):
                    await pubsub.aclose()

    async def _resync(self) -> None:
        """After a lost subscription: the followed projects' current hashes (listeners drop what they had)."""
        for project_id in list(self._by_project):
            raw = await self._redis.hgetall(PREFIX + project_id)
            if raw:
                self.publish(project_id, {k.decode(): v.decode() for k, v in raw.items()})
