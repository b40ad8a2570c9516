"""Pushed progress: SSE per project and for every project, Last-Event-ID, heartbeats, disconnects, the WebSocket."""

from __future__ import annotations

import asyncio
import gc
import re
import socket
import threading

import httpx
import pytest
from fastapi.testclient import TestClient
from starlette.websockets import WebSocketDisconnect

from tests.helpers import SHORT_TEXT, wait_until
from tests.service_support import live_server, read_events, service_rt, stream  # noqa: F401  (fixture)
from ytmaker.service.app import create_app
from ytmaker.service.hub import Channel, Push, Snapshot
from ytmaker.service.tokens import create_token

API = "/api/v1/projects"


def _create(http: httpx.Client, base: str, **headers: str) -> str:
    answer = http.post(f"{base}{API}", json={"text": SHORT_TEXT}, headers=headers)
    assert answer.status_code == 201, answer.text
    return answer.json()["id"]


def _follow_a_project_then_reconnect(rt, base):
    """The shared scenario of both hubs (in-process store, Redis pattern subscription)."""
    with httpx.Client() as http:
        project_id = _create(http, base)
        url = f"{base}{API}/{project_id}/events"
        with stream(http, url) as response:
            assert response.status_code == 200 and response.headers["content-type"].startswith("text/event-stream")
            assert response.headers["x-content-type-options"] == "nosniff"  # the middleware saw the start, if not the body
            events = read_events(response.iter_lines())
            first = next(events)  # the current state, read after the subscription: nothing can fall in between
            assert first.name == "progress" and first.data["status"] == "queued" and first.data["project_id"] == project_id
            assert first.id == first.data["seq"]
            rt.progress.update(project_id, status="script_generating", stage="script", stage_progress=40, message="writing")
            second = next(events)
            assert int(second.id) > int(first.id) and second.data["stage_progress"] == "40"
        # the connection is cut between two events: the next two happen while no one listens
        rt.progress.update(project_id, stage="script", stage_progress=80, message="almost")
        rt.progress.update(project_id, status="assets_generating", stage="script", stage_progress=100, message="script done")
        with stream(http, url, **{"Last-Event-ID": second.id}) as response:
            events = read_events(response.iter_lines())
            caught_up = next(events)  # at once: the whole state as it is now
            assert caught_up.data["status"] == "assets_generating" and caught_up.data["message"] == "script done"
            assert int(caught_up.id) == int(second.id) + 2
            rt.progress.update(project_id, status="completed", stage="upload", stage_progress=100, message="done")
            last, end = next(events), next(events)
            assert last.data["status"] == "completed" and last.data["progress"] == "100"
            assert end.name == "end" and end.data == {"project_id": project_id, "status": "completed"}
            assert list(events) == []  # the stream ends after the terminal status
        # up to date with a finished project: 204, so EventSource stops reconnecting
        assert http.get(url, headers={"Last-Event-ID": end.id}).status_code == 204
        # an older id: the final state and the end at once
        with stream(http, url, **{"Last-Event-ID": first.id}) as response:
            assert [e.name for e in read_events(response.iter_lines())] == ["progress", "end"]


def test_sse_in_embedded_mode_first_state_changes_end_and_reconnect(service_rt):  # noqa: F811
    with live_server(create_app(service_rt, worker=False)) as base:
        _follow_a_project_then_reconnect(service_rt, base)


@pytest.mark.redis
def test_sse_through_the_redis_pattern_subscription(redis_rt):
    with live_server(create_app(redis_rt, worker=False)) as base:
        _follow_a_project_then_reconnect(redis_rt, base)


def test_a_real_project_streams_to_its_end_with_increasing_ids(service_rt):  # noqa: F811
    with live_server(create_app(service_rt)) as base, httpx.Client() as http:
        project_id = _create(http, base)
        with stream(http, f"{base}{API}/{project_id}/events") as response:
            events = list(read_events(response.iter_lines()))
    ids = [int(e.id) for e in events[:-1]]
    assert ids == sorted(set(ids)) and events[-1].name == "end" and events[-1].id == events[-2].id
    assert events[-2].data["status"] == "completed" and events[-2].data["progress"] == "100"
    assert len({e.data.get("stage") for e in events[:-1]}) >= 3  # stages were seen moving, not only the end


def test_heartbeats_flow_on_an_idle_stream_and_a_disconnect_costs_nothing(service_rt):  # noqa: F811
    app = create_app(service_rt, worker=False)
    hub = app.state.hub
    with live_server(app) as base, httpx.Client() as http:
        project_id = _create(http, base)
        url = f"{base}{API}/{project_id}/events"
        with stream(http, url) as response:
            lines = response.iter_lines()
            pings = [line for line, _ in zip(lines, range(10)) if line == ": ping"]
            assert len(pings) >= 2  # YTMAKER_API_HEARTBEAT_S is 0.2 s here
        wait_until(lambda: hub.listeners == 0, 10, "the closed stream to let go of its listener")

        clients = [httpx.Client() for _ in range(20)]
        opened = [stream(c, url) for c in clients]
        responses = [o.__enter__() for o in opened]
        wait_until(lambda: hub.listeners == 20, 10, "20 streams to subscribe")
        for client in clients:  # cut mid-stream, without reading to the end
            client.close()
        wait_until(lambda: hub.listeners == 0, 10, "every cut stream to let go of its listener")
        assert responses[0].status_code == 200
        service_rt.progress.update(project_id, stage="script", stage_progress=10)  # nobody left to tell: no error
        assert http.get(f"{base}/healthz").status_code == 200


def test_a_slow_reader_holds_up_no_one_and_skips_to_the_newest_state(service_rt):  # noqa: F811
    """The hub writes to every stream as it publishes: a client that stops reading fills its socket, so its send
    waits (in a task of its own) while the other stream of the project gets every update at once; read again,
    it resumes with the newest state rather than each one it missed, and ends after the terminal one."""
    app = create_app(service_rt, worker=False)
    with live_server(app) as base, httpx.Client() as http:
        project_id = _create(http, base)
        host, port = base.removeprefix("http://").split(":")
        slow, gone = socket.socket(), socket.socket()  # gone: hangs up while its send waits
        for client in (slow, gone):
            client.setsockopt(socket.SOL_SOCKET, socket.SO_RCVBUF, 16_384)  # before connecting: a small window, not autotuned
            client.connect((host, int(port)))
            client.sendall(f"GET {API}/{project_id}/events HTTP/1.1\r\nHost: {host}\r\n\r\n".encode())
        wait_until(lambda: app.state.hub.listeners == 2, 10, "the slow streams to subscribe")
        seen: list = []

        def read_fast(response) -> None:
            for event in read_events(response.iter_lines()):
                seen.append(event)

        with stream(http, f"{base}{API}/{project_id}/events") as response:
            reader = threading.Thread(target=read_fast, args=(response,), daemon=True)
            reader.start()
            wait_until(lambda: len(seen) == 1, 10, "the fast stream's first event")
            big = "x" * 1_000_000  # 40 MB in all: more than the kernel and the transport buffer for the slow one
            for i in range(40):
                service_rt.progress.update(project_id, stage="script", stage_progress=i, message=f"{big} {i}")
                wait_until(lambda n=i + 2: len(seen) == n, 10, f"update {i} on the fast stream")
            gone.close()
            wait_until(lambda: app.state.hub.listeners == 2, 10, "the stream that hung up to let go")
            service_rt.progress.update(project_id, status="completed", stage="upload", stage_progress=100, message="done")
            reader.join(10)
        assert [int(e.id) for e in seen[1:-1]] == list(range(int(seen[0].id) + 1, int(seen[0].id) + 42))
        assert seen[-1].name == "end" and seen[-2].data["status"] == "completed"

        raw = b""
        slow.settimeout(10)
        while not raw.endswith(b"\r\n0\r\n\r\n"):  # the chunked body's end
            chunk = slow.recv(1 << 20)
            assert chunk, raw[-200:]
            raw += chunk
        slow.close()
        wait_until(lambda: app.state.hub.listeners == 0, 10, "every stream to let go")
    events = re.findall(rb"id: (\d+)\nevent: (\w+)", raw)
    ids = [int(i) for i, name in events if name == b"progress"]
    assert ids == sorted(set(ids)) and ids[-1] == int(seen[-2].id)  # in order, up to the last state
    assert len(ids) < 20  # not the 42 states published: the ones it could not take were skipped
    assert events[-1] == (seen[-1].id.encode(), b"end")


def test_a_push_finishes_a_send_that_had_to_wait_then_sends_the_newest_state_only():
    async def scenario() -> list[bytes]:
        gate = asyncio.get_running_loop().create_future()  # the client's pace
        at_gate = asyncio.Event()
        sent: list[bytes] = []

        async def send(message: dict) -> None:
            if not sent and not gate.done():
                await asyncio.sleep(0)  # a bare yield first, then a future
                at_gate.set()
                await gate
            sent.append(message["body"])

        channel = Channel()
        push = Push(channel, send, seq=0)
        channel.join(push)
        states = [Snapshot.of("p", {"seq": str(seq), "status": "rendering"}) for seq in (1, 2, 3)]
        for snapshot in [*states, Snapshot.of("p", {"seq": "4", "status": "completed"})]:
            channel.publish(snapshot)  # the first one's send waits: the rest come meanwhile
        await asyncio.wait_for(at_gate.wait(), 5)
        assert sent == [] and not push.done.done()
        gate.set_result(None)
        await asyncio.wait_for(push.done, 5)
        return sent

    sent = asyncio.run(scenario())
    assert [body.split(b"\n", 1)[0] for body in sent] == [b"id: 1", b"id: 4"]  # 2 and 3 skipped: each is the whole state
    assert b"event: end" in sent[-1]


def test_the_stream_of_every_project_shows_a_token_its_own(service_rt):  # noqa: F811
    alice, bob = create_token(service_rt.db, "alice"), create_token(service_rt.db, "bob")
    root = create_token(service_rt.db, "root", admin=True)
    with live_server(create_app(service_rt, worker=False)) as base, httpx.Client() as http:
        hers = _create(http, base, Authorization=f"Bearer {alice}")
        his = _create(http, base, Authorization=f"Bearer {bob}")
        with stream(http, f"{base}/api/v1/events", Authorization=f"Bearer {alice}") as mine, \
                stream(http, f"{base}/api/v1/events", Authorization=f"Bearer {root}") as everything:
            own, every = read_events(mine.iter_lines()), read_events(everything.iter_lines())
            assert next(own).data["project_id"] == hers  # the live projects' state first
            assert {next(every).data["project_id"] for _ in range(2)} == {hers, his}
            service_rt.progress.update(his, stage="script", stage_progress=50, message="his")
            service_rt.progress.update(hers, stage="script", stage_progress=60, message="hers")
            assert next(own).data["message"] == "hers"  # his update was not shown to her
            assert [next(every).data["message"] for _ in range(2)] == ["his", "hers"]
        unauthenticated = http.get(f"{base}/api/v1/events")
        assert unauthenticated.status_code == 401


def test_the_websocket_carries_the_same_messages(service_rt):  # noqa: F811
    with TestClient(create_app(service_rt, worker=False)) as client:
        project_id = client.post(API, json={"text": SHORT_TEXT}).json()["id"]
        with client.websocket_connect(f"{API}/{project_id}/ws") as ws:
            first = ws.receive_json()
            assert first["event"] == "progress" and first["data"]["status"] == "queued" and first["id"] == first["data"]["seq"]
            service_rt.progress.update(project_id, status="failed", error="audio failed: HTTP 503", message="failed")
            failed = ws.receive_json()
            while failed["event"] == "ping":
                failed = ws.receive_json()
            assert failed["data"]["status"] == "failed" and failed["data"]["error"] == "audio failed: HTTP 503"
            assert ws.receive_json() == {"event": "end", "id": failed["id"],
                                         "data": {"project_id": project_id, "status": "failed"}}
        with pytest.raises(WebSocketDisconnect) as refused:
            client.websocket_connect(f"{API}/{project_id}/ws", headers={"Origin": "https://evil.example"}).__enter__()
        assert refused.value.code == 1008 and "cross-origin" in refused.value.reason


def test_the_stream_of_every_project_resumes_from_its_last_event_id(service_rt):  # noqa: F811
    from sqlalchemy import update

    from ytmaker.db.models import Project

    with live_server(create_app(service_rt, worker=False)) as base, httpx.Client() as http:
        early, late = _create(http, base), _create(http, base)
        with stream(http, f"{base}/api/v1/events") as first:
            seen = [next(read_events(first.iter_lines())) for _ in range(1)]
        last_id = seen[-1].id
        assert last_id is not None and int(last_id) > 1_700_000_000_000  # milliseconds since the epoch
        # while the client is away, one project finishes: a fresh stream would no longer list it
        with service_rt.db.session() as session:
            session.execute(update(Project).where(Project.id == early).values(status="completed"))
        service_rt.progress.update(early, status="completed", message="done")
        with stream(http, f"{base}/api/v1/events") as fresh:
            assert next(read_events(fresh.iter_lines())).data["project_id"] == late
        with stream(http, f"{base}/api/v1/events", **{"Last-Event-ID": last_id}) as again:
            events = read_events(again.iter_lines())
            resumed = {e.data["project_id"]: e for e in (next(events), next(events))}
        assert resumed[early].data["status"] == "completed" and resumed[late].data["status"] == "queued"
        assert all(int(e.id) > int(last_id) for e in resumed.values())  # ids keep rising across connections


def test_requests_and_streams_leave_no_garbage_for_the_collector(service_rt):  # noqa: F811
    # Each request used to leave a reference cycle (the server's send kept in the scope), so its objects waited for a
    # full collection, whose pause grew with every poll and stream since the last one (430 ms in bench/live).
    def cycles_found() -> int:
        gc.set_debug(gc.DEBUG_SAVEALL)
        try:
            gc.collect()
            return sum(type(o).__name__ == "RequestResponseCycle" for o in gc.garbage)
        finally:
            gc.set_debug(0)
            gc.garbage.clear()

    app = create_app(service_rt, worker=False)
    with live_server(app) as base, httpx.Client() as http:
        project_id = _create(http, base)
        url = f"{base}{API}/{project_id}"
        cycles_found()
        gc.disable()  # what a young pass would have freed in the meantime stays to be counted
        try:
            for _ in range(30):
                assert http.get(url).status_code == 200
            for _ in range(5):  # streams cut mid-stream, as a closed browser tab does
                with httpx.Client() as client, stream(client, f"{url}/events") as response:
                    assert next(response.iter_lines()).startswith(("id:", "event:"))
            wait_until(lambda: app.state.hub.listeners == 0, 10, "the cut streams to end")
            assert cycles_found() == 0
        finally:
            gc.enable()
