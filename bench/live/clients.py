"""The benchmark's clients, each group in a process of its own: SSE followers, 1 s pollers, a POST load generator.

Every progress write carries its wall-clock time in ``message`` (``bench <unix time>``); a client that reads
it notes when, so the latency of a push and the staleness of a poll are both "read time - write time" on the
same machine's clock.
"""

from __future__ import annotations

import asyncio
import gc
import random
import time

import aiohttp
import uvloop  # the clients' own loop costs less per event, on the two cores they share with the API (uvicorn uses it too)


def _written_at(data: bytes) -> float | None:
    """The write time a benchmark snapshot carries in ``message`` (``bench <unix time>``), found without parsing the JSON."""
    at = data.find(b"bench ")
    if at < 0:
        return None
    return float(data[at + 6:data.index(b'"', at)])


async def _follow(session: aiohttp.ClientSession, url: str, out: dict, connected: asyncio.Event, total: int,
                  delivered=None) -> None:
    # The stream is read as it arrives (iter_any: one await per read, not per line) and split into events here: the
    # clients share the two cores with the API, and their own cost per event (aiohttp's readline, a json.loads) was
    # part of the latency they measured. Every event of one read is stamped with the time of that read.
    try:
        async with session.get(url, headers={"Accept": "text/event-stream"}) as response:
            if response.status != 200:
                out["errors"] += 1
                return
            out["connected"] += 1
            if out["connected"] == total:
                connected.set()
            first = True  # the current state, sent on connecting: not a push
            pending = b""
            async for chunk in response.content.iter_any():
                now = time.time()
                events = (pending + chunk).split(b"\n\n")
                pending = events.pop()  # an event not complete yet
                for event in events:
                    data = event.find(b"data:")
                    if data < 0:
                        continue  # a heartbeat comment
                    if first:
                        first = False
                        continue
                    if delivered is not None:
                        with delivered.get_lock():
                            delivered.value += 1
                    written = _written_at(event[data:])
                    if written is not None:
                        out["latencies"].append(now - written)
    except (TimeoutError, aiohttp.ClientError):
        out["errors"] += 1


def sse_clients(base: str, project_ids: list[str], ready, stop, results, delivered=None) -> None:
    """Follow one stream per entry of ``project_ids``; put {latencies, errors, connected} on ``results`` at ``stop``;
    ``delivered`` (a shared ``multiprocessing.Value``): counts the events pushed after the first, as they arrive."""

    async def main() -> dict:
        out: dict = {"latencies": [], "errors": 0, "connected": 0}
        connected = asyncio.Event()
        connector = aiohttp.TCPConnector(limit=0)
        timeout = aiohttp.ClientTimeout(total=None, sock_read=None)
        async with aiohttp.ClientSession(connector=connector, timeout=timeout) as session:
            tasks = [asyncio.create_task(_follow(session, f"{base}/api/v1/projects/{pid}/events", out, connected,
                                                 len(project_ids), delivered)) for pid in project_ids]
            await asyncio.wait_for(connected.wait(), 120)
            gc.disable()  # for the measurement: the client's own full passes (60-130 ms) are not the server's latency
            ready.set()
            while not stop.is_set():
                await asyncio.sleep(0.1)
            for task in tasks:
                task.cancel()
            await asyncio.gather(*tasks, return_exceptions=True)
        return out

    results.put(uvloop.run(main()))


def pollers(base: str, project_ids: list[str], interval_s: float, ready, stop, results) -> None:
    """Poll GET /projects/{id} every ``interval_s`` (random phase) per entry; put the polls' (poller, id, time, written) on ``results``."""

    async def poll(session: aiohttp.ClientSession, poller: int, pid: str, out: dict) -> None:
        await asyncio.sleep(random.uniform(0, interval_s))
        next_at = time.monotonic()
        while not stop.is_set():
            try:
                async with session.get(f"{base}/api/v1/projects/{pid}") as response:
                    body = await response.json()
                    out["requests"] += 1
                    if response.status != 200:
                        out["errors"] += 1
                    else:
                        written = (body["progress"].get("message") or "")
                        out["polls"].append((poller, pid, time.time(),
                                             float(written[6:]) if written.startswith("bench ") else 0.0))
            except aiohttp.ClientError:
                out["errors"] += 1
            next_at += interval_s
            await asyncio.sleep(max(0.0, next_at - time.monotonic()))

    async def main() -> dict:
        out: dict = {"polls": [], "errors": 0, "requests": 0, "started": time.time()}
        async with aiohttp.ClientSession(connector=aiohttp.TCPConnector(limit=0)) as session:
            ready.set()
            await asyncio.gather(*(poll(session, i, pid, out) for i, pid in enumerate(project_ids)))
        out["stopped"] = time.time()
        return out

    results.put(uvloop.run(main()))


def post_load(base: str, body: dict, rate: float, duration_s: float, results) -> None:
    """Open-loop POST /projects at ``rate`` per second for ``duration_s``: each request leaves on schedule, whatever
    the earlier ones are doing. Puts {latencies, statuses} on ``results``."""

    async def one(session: aiohttp.ClientSession, out: dict) -> None:
        started = time.perf_counter()
        try:
            async with session.post(f"{base}/api/v1/projects", json=body) as response:
                await response.read()
                out["statuses"][response.status] = out["statuses"].get(response.status, 0) + 1
        except aiohttp.ClientError as exc:
            out["statuses"][type(exc).__name__] = out["statuses"].get(type(exc).__name__, 0) + 1
        out["latencies"].append(time.perf_counter() - started)
        out["sent_at"].append(started)

    async def main() -> dict:
        out: dict = {"latencies": [], "sent_at": [], "statuses": {}}
        async with aiohttp.ClientSession(connector=aiohttp.TCPConnector(limit=0)) as session:
            tasks = []
            start = time.monotonic()
            out["start"] = time.perf_counter()
            for i in range(int(rate * duration_s)):
                await asyncio.sleep(max(0.0, start + i / rate - time.monotonic()))
                tasks.append(asyncio.create_task(one(session, out)))
            await asyncio.gather(*tasks)
        out["wall_s"] = time.monotonic() - start
        return out

    results.put(uvloop.run(main()))
