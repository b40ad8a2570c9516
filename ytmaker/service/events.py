"""Progress pushed to clients: Server-Sent Events per project and for every project, and a WebSocket.

``GET /api/v1/projects/{id}/events``::

    id: 7                      the progress hash's seq (ytmaker.progress): one per applied update
    event: progress
    data: {"status": "rendering", "progress": "64", ..., "seq": "7", "project_id": "..."}

    : ping                     a comment every YTMAKER_API_HEARTBEAT_S, so proxies keep the stream open

    event: end
    data: {"project_id": "...", "status": "completed"}

The first event is the current state; the stream ends after a completed, failed or cancelled
one. Each snapshot is the whole state, so a client reconnecting with ``Last-Event-ID`` older than
the current seq gets the current snapshot at once and has missed nothing; one that is up to date
with a finished project gets 204 (EventSource stops reconnecting). ``GET /api/v1/events``: every
project the caller may see; its ids are the milliseconds (Unix time) each event was sent at, so a
client reconnecting with ``Last-Event-ID`` gets the live projects' state and that of every project that finished
since (nothing missed; a snapshot sent twice is harmless). ``WS /api/v1/projects/{id}/ws``: the same messages as JSON text frames,
``{"event": "progress", "id": "7", "data": {...}}``, ``{"event": "ping"}`` each heartbeat, then
``{"event": "end", ...}`` and a close.
"""

from __future__ import annotations

import asyncio
import contextlib
import json
import time
from collections.abc import AsyncGenerator, AsyncIterator, Awaitable, Callable
from datetime import UTC, datetime
from typing import Annotated

from fastapi import APIRouter, Header, HTTPException, Request, WebSocket
from fastapi.concurrency import run_in_threadpool
from fastapi.responses import Response, StreamingResponse
from sqlalchemy import ColumnElement, and_, or_, select
from starlette.types import Receive, Scope, Send
from starlette.websockets import WebSocketDisconnect

from ytmaker.db.models import Project
from ytmaker.errors import ProjectNotFound
from ytmaker.progress.base import settled
from ytmaker.runtime import Runtime
from ytmaker.service import queries
from ytmaker.service.auth import COOKIE, Rt, Who, identify, same_origin
from ytmaker.service.hub import PING, Channel, Hub, Listener, Push, Snapshot
from ytmaker.service.middleware import BODY_SEND
from ytmaker.service.tokens import Caller
from ytmaker.statuses import TERMINAL_PROJECT_STATUSES

router = APIRouter(prefix="/api/v1", tags=["events"])
HEADERS = {"Cache-Control": "no-store", "X-Accel-Buffering": "no"}
#: live projects whose state a new /events stream starts with
LIVE_LIMIT = 200
#: a reconnection to the all-projects stream also gets what finished this long before its last event
RECONNECT_MARGIN_S = 5.0


async def _disconnect(receive: Receive) -> None:
    while (await receive())["type"] != "http.disconnect":
        pass


class EventStream(Response):
    """A text/event-stream response as a plain ASGI app: sends the head, then runs ``write`` (in a task of its own,
    its body messages going past the middleware: ``BODY_SEND``) until it returns or the client disconnects;
    ``release`` runs however it ends, even before the first byte. No StreamingResponse: its task group and
    per-chunk work cost more than the event itself once one write goes to 1,000 streams."""

    media_type = "text/event-stream"

    def __init__(self, write: Callable[[Send], Awaitable[None]], release: Callable[[], None]) -> None:
        self.status_code, self.background = 200, None
        self.init_headers(HEADERS)
        self.write, self.release = write, release

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        try:
            await send({"type": "http.response.start", "status": self.status_code, "headers": self.raw_headers})
            writing = asyncio.ensure_future(self.write(scope.get(BODY_SEND, send)))
            watch = asyncio.ensure_future(_disconnect(receive))
            try:
                await asyncio.wait((writing, watch), return_when=asyncio.FIRST_COMPLETED)
            finally:
                watch.cancel()
                if not writing.done():
                    writing.cancel()
                    with contextlib.suppress(asyncio.CancelledError):
                        await writing
            if not writing.cancelled():
                writing.result()  # its error, if any
        finally:
            self.release()
        if self.background is not None:
            await self.background()


def current(rt: Runtime, project_id: str, status: str, error: str | None) -> Snapshot:
    """The project's state now: its progress hash, with the database's word on whether it is over."""
    return Snapshot.of(project_id, settled(rt.progress.get(project_id), status, error))


def _last_id(value: str | None) -> int | None:
    return int(value) if value and value.strip().isdigit() else None


async def _subscribe(request_app, rt: Runtime, who: Caller, project_id: str, last_event_id: str | None):
    """Subscribe first, then read the current state: no update falls between the two (``unfollow`` once done)."""
    hub: Hub = request_app.state.hub
    project = await run_in_threadpool(queries.owned_project, rt, who, project_id)
    channel = hub.follow(project.id)
    try:
        first = await run_in_threadpool(current, rt, project.id, project.status, project.error)
    except BaseException:
        hub.unfollow(project.id, channel)
        raise
    return hub, channel, first, _last_id(last_event_id)


async def _push(channel: Channel, first: Snapshot, last_id: int | None, send_body: Send) -> None:
    """One project's SSE body: its current state, then what the hub pushes until the end (see hub.Push)."""
    if first.terminal:
        await send_body(first.last_body)
        return
    if last_id != first.seq:
        await send_body(first.body)
    push = Push(channel, send_body, first.seq)
    channel.join(push)
    try:
        await push.done
    finally:
        channel.leave(push)
        push.close()


@router.get("/projects/{project_id}/events", response_class=StreamingResponse,
            responses={200: {"content": {"text/event-stream": {}}}, 204: {"description": "finished; nothing missed"}})
async def project_events(project_id: str, request: Request, who: Who,
                         rt: Rt,
                         last_event_id: Annotated[str | None, Header(max_length=32)] = None) -> Response:
    """Server-Sent Events of one project's progress (see the module's docstring for the wire format)."""
    hub, channel, first, last_id = await _subscribe(request.app, rt, who, project_id, last_event_id)
    if first.terminal and last_id == first.seq:
        hub.unfollow(first.project_id, channel)
        return Response(status_code=204)
    return EventStream(lambda send_body: _push(channel, first, last_id, send_body),
                       lambda: hub.unfollow(first.project_id, channel))


def _live_visible(rt: Runtime, who: Caller, finished_since: int | None) -> list[tuple[str, str, str | None]]:
    """The live projects the caller may see, and those that finished after ``finished_since`` (ms) if given."""
    terminal = [str(s) for s in TERMINAL_PROJECT_STATUSES]
    shown: ColumnElement[bool] = Project.status.not_in(terminal)
    if finished_since is not None:  # a reconnection: what ended while it was away too (a margin for clocks apart)
        since = datetime.fromtimestamp(finished_since / 1000 - RECONNECT_MARGIN_S, UTC)
        shown = or_(shown, and_(Project.status.in_(terminal), Project.updated_at >= since))
    query = select(Project.id, Project.status, Project.error).where(shown).order_by(Project.created_at.desc()).limit(LIVE_LIMIT)
    if not who.admin:
        query = query.where(Project.owner_token_id == who.token_id)
    with rt.db.single() as session:
        return [(row.id, row.status, row.error) for row in session.execute(query)]


def _owners(rt: Runtime, project_ids: list[str]) -> dict[str, int | None]:
    with rt.db.single() as session:
        rows = session.execute(select(Project.id, Project.owner_token_id).where(Project.id.in_(project_ids)))
        return {row.id: row.owner_token_id for row in rows}


class _Clock:
    """The all-projects stream's event ids: milliseconds since the epoch, rising by at least one per event."""

    def __init__(self) -> None:
        self.last = 0

    def stamp(self, event: bytes) -> bytes:
        self.last = max(self.last + 1, int(time.time() * 1000))
        return f"id: {self.last}\n".encode() + event


@router.get("/events", response_class=StreamingResponse, responses={200: {"content": {"text/event-stream": {}}}})
async def all_events(request: Request, who: Who, rt: Rt,
                     last_event_id: Annotated[str | None, Header(max_length=32)] = None) -> Response:
    """Server-Sent Events of every project the caller may see (the live ones' current state first)."""
    hub: Hub = request.app.state.hub
    listener = hub.add(Listener())
    clock = _Clock()

    async def events() -> AsyncGenerator[bytes, None]:
        visible: dict[str, bool] = {}  # project id -> the caller may see it (each asked of the database once)
        for project_id, status, error in await run_in_threadpool(_live_visible, rt, who, _last_id(last_event_id)):
            visible[project_id] = True
            yield clock.stamp((await run_in_threadpool(current, rt, project_id, status, error)).sse_without_id())
        while True:
            snapshots = await listener.wait()
            if not snapshots:
                yield PING
                continue
            unknown = [s.project_id for s in snapshots if s.project_id not in visible]
            if unknown and not who.admin:
                owners = await run_in_threadpool(_owners, rt, unknown)
                visible.update({pid: pid in owners and who.may_see(owners[pid]) for pid in unknown})
            for snapshot in snapshots:
                if who.admin or visible.get(snapshot.project_id):
                    yield clock.stamp(snapshot.sse_without_id())
            if len(visible) > 10_000:  # a long-lived stream: forget, ask again
                visible.clear()

    async def write(send_body: Send) -> None:
        stream = events()
        try:
            async for event in stream:
                await send_body({"type": "http.response.body", "body": event, "more_body": True})
        finally:
            await stream.aclose()

    return EventStream(write, lambda: hub.remove(listener))


async def _follow(listener: Listener, first: Snapshot, last_id: int | None) -> AsyncIterator[tuple[str, Snapshot]]:
    """("progress" | "end" | "ping", snapshot) for one project, starting with its current state."""
    seq = first.seq
    if last_id != first.seq or first.terminal:
        yield "progress", first
    if first.terminal:
        yield "end", first
        return
    while True:
        snapshots = await listener.wait()
        if not snapshots:
            yield "ping", first
        for snapshot in snapshots:
            if snapshot.seq <= seq:
                continue
            seq = snapshot.seq
            yield "progress", snapshot
            if snapshot.terminal:
                yield "end", snapshot
                return


@router.websocket("/projects/{project_id}/ws")
async def project_ws(websocket: WebSocket, project_id: str) -> None:
    """The project's progress as WebSocket text frames (the SSE stream's messages as JSON)."""
    app = websocket.app
    rt: Runtime = app.state.rt
    if not same_origin(websocket.headers.get("origin"), websocket.headers.get("host")):
        await websocket.close(code=1008, reason="cross-origin WebSocket refused")
        return
    try:
        who = await run_in_threadpool(identify, rt, public=app.state.public,
                                      authorization=websocket.headers.get("authorization"),
                                      cookie=websocket.cookies.get(COOKIE))
        hub, channel, first, last_id = await _subscribe(app, rt, who, project_id,
                                                        websocket.query_params.get("last_event_id"))
    except (HTTPException, ProjectNotFound) as exc:
        reason = exc.detail if isinstance(exc, HTTPException) else str(exc)
        await websocket.close(code=1008, reason=str(reason)[:120])
        return
    listener = Listener()
    channel.join(listener)
    try:
        await websocket.accept()
        async for kind, snapshot in _follow(listener, first, last_id):
            if kind == "ping":  # also finds out, within a heartbeat, that the client has gone
                await websocket.send_text('{"event": "ping"}')
                continue
            data = json.loads(snapshot.end()) if kind == "end" else {**snapshot.fields, "project_id": snapshot.project_id}
            await websocket.send_text(json.dumps({"event": kind, "id": str(snapshot.seq), "data": data}))
        await websocket.close(code=1000)
    except WebSocketDisconnect:
        pass
    finally:
        channel.leave(listener)
        hub.unfollow(first.project_id, channel)
