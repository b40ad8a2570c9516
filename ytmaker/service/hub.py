"""One subscription per process, fanned out to every stream the process serves.

The progress store publishes the whole hash after each change. The hub
listens once per API process (Redis: one pattern subscription on the
progress channels through ``redis.asyncio``; embedded mode: a listener on the
in-process store) and makes each change a :class:`Snapshot` once: its SSE
event is encoded once, into one ASGI message that every stream sends as is.
A project's streams share a :class:`Channel` that keeps only its newest
snapshot: each one is the whole state, so a stream that falls behind skips to
the newest instead of queueing stale ones. SSE streams of a project are
:class:`Push`es, written to by the hub itself as it publishes (1,000 streams
of a project: 1,000 socket writes in one pass, no task woken per stream);
WebSockets and the streams of every project wait on a :class:`Listener`.
"""

from __future__ import annotations

import asyncio
import contextlib
import json
from dataclasses import dataclass, field
from functools import cached_property
from typing import Any

import structlog

from ytmaker.progress import PREFIX, TERMINAL_STATUSES, MemoryProgressStore, ProgressStore

log = structlog.get_logger(__name__)

#: seconds between attempts to subscribe again after Redis went away
RESUBSCRIBE_S = 1.0


#: an SSE comment, sent when a stream was quiet for a heartbeat period (so proxies keep it open)
PING = b": ping\n\n"
PING_BODY = {"type": "http.response.body", "body": PING, "more_body": True}


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

    def sse_without_id(self) -> bytes:
        """Its event for the stream of every project, which numbers events its own way."""
        return f"event: progress\ndata: {self.data}\n\n".encode()

    def end(self) -> str:
        return json.dumps({"project_id": self.project_id, "status": self.fields.get("status")})

    @cached_property
    def body(self) -> dict[str, Any]:
        """The ASGI message of its SSE event, built once and sent as is by every stream of the project."""
        return {"type": "http.response.body", "body": f"id: {self.seq}\nevent: progress\ndata: {self.data}\n\n".encode(),
                "more_body": True}

    @cached_property
    def last_body(self) -> dict[str, Any]:
        """A terminal snapshot's event, the ``end`` event and the end of the response, in one message."""
        end = f"id: {self.seq}\nevent: end\ndata: {self.end()}\n\n".encode()
        return {"type": "http.response.body", "body": self.body["body"] + end, "more_body": False}


class Channel:
    """A project's streams (SSE pushes and WebSocket listeners) and its newest snapshot."""

    __slots__ = ("followers", "latest", "streams")

    def __init__(self) -> None:
        self.latest: Snapshot | None = None
        self.streams: dict[Push | Listener, None] = {}  # in the order they came
        self.followers = 0  # streams between Hub.follow and Hub.unfollow, joined or not yet

    def publish(self, snapshot: Snapshot) -> None:
        self.latest = snapshot
        for stream in list(self.streams):  # a copy: a send of some server might let a stream leave at once
            stream.offer(snapshot)

    def join(self, stream: Push | Listener) -> None:
        """From now on ``stream`` gets the project's snapshots, starting with the newest one if any."""
        self.streams[stream] = None
        if self.latest is not None:
            stream.offer(self.latest)

    def leave(self, stream: Push | Listener) -> None:
        self.streams.pop(stream, None)


class Push:
    """An SSE stream of one project that the hub writes to as it publishes, with no task to wake per event.

    A delivery calls the stream's ASGI ``send`` and runs the coroutine there and then: it writes to the socket
    and returns without suspending, unless the client reads too slowly for the transport's buffer; then a task
    finishes that send, and the stream goes on with the newest snapshot (each one is the whole state).
    ``done`` resolves once the stream has sent its end (or with the error that stopped it)."""

    __slots__ = ("_send", "_slow", "channel", "done", "quiet", "seq")

    def __init__(self, channel: Channel, send: Any, seq: int) -> None:
        self.channel, self._send, self.seq = channel, send, seq
        self.done: asyncio.Future[None] = asyncio.get_running_loop().create_future()
        self._slow: asyncio.Task | None = None  # a send waiting for the client to read
        self.quiet = True  # nothing offered since the hub's last heartbeat tick

    def offer(self, snapshot: Snapshot) -> None:
        self.quiet = False
        if snapshot.seq > self.seq and self._slow is None and not self.done.done():
            self.seq = snapshot.seq
            self._deliver(snapshot.last_body if snapshot.terminal else snapshot.body)

    def tick(self) -> None:
        """The hub's heartbeat: a stream quiet for a whole period sends a ping."""
        if self.quiet and self._slow is None and not self.done.done():
            self._deliver(PING_BODY)
        self.quiet = True

    def close(self) -> None:
        if self._slow is not None:
            self._slow.cancel()

    def _deliver(self, message: dict[str, Any]) -> None:
        sending = self._send(message)
        try:
            waiting = sending.send(None)
        except StopIteration:
            self._sent(message)
        except Exception as exc:  # noqa: BLE001 - the stream's error, raised by its response
            self._failed(exc)
        else:
            self._slow = asyncio.ensure_future(self._finish(sending, waiting, message))

    async def _finish(self, sending: Any, waiting: Any, message: dict[str, Any]) -> None:
        """Go on with a send that suspended on ``waiting`` (what its coroutine yielded, as a task's step would)."""
        try:
            while True:
                if waiting is None:  # a bare yield: asyncio.sleep(0)
                    await asyncio.sleep(0)
                else:
                    waiting._asyncio_future_blocking = False  # as a task does with what it is handed
                    await waiting
                waiting = sending.send(None)
        except StopIteration:
            pass
        except asyncio.CancelledError:
            sending.close()
            raise
        except Exception as exc:  # noqa: BLE001
            self._failed(exc)
            return
        self._slow = None
        self._sent(message)
        if self.channel.latest is not None:
            self.offer(self.channel.latest)  # what was published meanwhile: the newest only

    def _sent(self, message: dict[str, Any]) -> None:
        if not message["more_body"] and not self.done.done():
            self.done.set_result(None)

    def _failed(self, exc: Exception) -> None:
        if not self.done.done():  # not already over (the response let go of it)
            self.done.set_exception(exc)


class Listener:
    """What a stream that waits (WebSocket, every project's SSE) has not sent yet: the newest snapshot per project,
    or that a heartbeat is due."""

    def __init__(self) -> None:
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
        self._channels: dict[str, Channel] = {}
        self._everything: set[Listener] = set()
        self._task: asyncio.Task | None = None
        self._ticker: asyncio.Task | None = None
        self._stop_listening: Any = None
        self._redis: Any = None
        self.connected = asyncio.Event()
        self._tried = asyncio.Event()  # the first subscription attempt is over, whichever way it went

    @property
    def listeners(self) -> int:
        return sum(c.followers for c in self._channels.values()) + len(self._everything)

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
            for listener in list(self._everything):
                listener.tick()
            for channel in list(self._channels.values()):
                for stream in list(channel.streams):
                    stream.tick()

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

    def follow(self, project_id: str) -> Channel:
        """The project's channel, kept (and its newest snapshot with it) until every ``follow`` is ``unfollow``ed."""
        channel = self._channels.get(project_id)
        if channel is None:
            channel = self._channels[project_id] = Channel()
        channel.followers += 1
        return channel

    def unfollow(self, project_id: str, channel: Channel) -> None:
        channel.followers -= 1
        if not channel.followers and self._channels.get(project_id) is channel:
            del self._channels[project_id]

    def add(self, listener: Listener) -> Listener:
        """A stream of every project from now on."""
        self._everything.add(listener)
        return listener

    def remove(self, listener: Listener) -> None:
        self._everything.discard(listener)

    def publish(self, project_id: str, fields: dict[str, str]) -> None:
        """Hand a snapshot to its project's channel and every listener of every project (on the loop's thread)."""
        channel = self._channels.get(project_id)
        if channel is None and not self._everything:
            return
        snapshot = Snapshot.of(project_id, fields)
        if channel is not None:
            channel.publish(snapshot)
        for listener in self._everything:
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
        for project_id in list(self._channels):
            raw = await self._redis.hgetall(PREFIX + project_id)
            if raw:
                self.publish(project_id, {k.decode(): v.decode() for k, v in raw.items()})
