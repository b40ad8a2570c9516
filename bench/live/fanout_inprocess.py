"""The app's own Python per event delivered to a stream, without sockets: N SSE streams of one project driven
straight through the ASGI app (its middleware included) on this process's loop, B snapshots published to the hub.

    python bench/live/fanout_inprocess.py [--streams 1000] [--bursts 50] [--repeat 5]

What ``delivery.py`` measures minus the server's and the kernel's part (uvicorn's ``send``, the socket write):
this process's CPU time (``time.process_time``) from a publish until every stream has handed the event to
``send`` (which here only counts), divided by N; and how much of it went to Python's cyclic garbage collector.
Embedded mode (SQLite, the in-process store), uvloop as ``ytmaker serve``. Prints JSON: microseconds per
delivery, the median of the runs and each run. Runs against another tree with ``PYTHONPATH=that/tree``.
"""

from __future__ import annotations

import argparse
import asyncio
import gc
import json
import statistics
import tempfile
import time
from pathlib import Path

TEXT = "Honeybees talk by dancing. A forager that found flowers walks a figure eight on the comb."


def _scope(path: str) -> dict:
    return {"type": "http", "asgi": {"version": "3.0", "spec_version": "2.3"}, "http_version": "1.1", "method": "GET",
            "scheme": "http", "path": path, "raw_path": path.encode(), "query_string": b"", "root_path": "",
            "headers": [(b"host", b"127.0.0.1:8000"), (b"accept", b"text/event-stream")],
            "client": ("127.0.0.1", 40000), "server": ("127.0.0.1", 8000)}


async def run(n_streams: int, bursts: int, repeat: int) -> dict:
    from ytmaker.config import Settings
    from ytmaker.db.migrate import upgrade
    from ytmaker.projects import create_project
    from ytmaker.runtime import build_runtime
    from ytmaker.service.app import create_app

    data_dir = Path(tempfile.mkdtemp(prefix="ytm-bench-fanout-"))
    rt = build_runtime(Settings(_env_file=None, data_dir=data_dir, database_url=f"sqlite:///{data_dir / 'api.db'}",
                                api_heartbeat_s=3600, metrics=False))
    upgrade(rt.db)
    project_id = create_project(rt, TEXT).id
    rt.progress.update(project_id, status="assets_generating", message="started")
    app = create_app(rt, worker=False)
    hub = app.state.hub
    delivered = 0
    target = 0
    reached = asyncio.Event()
    hang_up = asyncio.Event()

    async def send(message: dict) -> None:
        nonlocal delivered
        if message["type"] == "http.response.body" and message.get("more_body"):
            delivered += 1
            if delivered == target:
                reached.set()

    def receiver():  # the request (no body), then a disconnect once the run is over
        first = True

        async def receive() -> dict:
            nonlocal first
            if first:
                first = False
                return {"type": "http.request", "body": b"", "more_body": False}
            await hang_up.wait()
            return {"type": "http.disconnect"}
        return receive

    gc_spent = [0.0, 0.0]  # seconds in the collector during the bursts, when it started

    def collecting(phase: str, _info: dict) -> None:
        if phase == "start":
            gc_spent[1] = time.process_time()
        else:
            gc_spent[0] += time.process_time() - gc_spent[1]

    path = f"/api/v1/projects/{project_id}/events"
    runs = []
    async with app.router.lifespan_context(app):
        target = n_streams  # each stream's first event: the current state
        streams = [asyncio.create_task(app(_scope(path), receiver(), send)) for _ in range(n_streams)]
        await asyncio.wait_for(reached.wait(), 120)
        fields = rt.progress.get(project_id)
        seq = int(fields["seq"])
        gc.callbacks.append(collecting)
        for _ in range(repeat):
            spent = 0.0
            for i in range(bursts):
                seq += 1
                reached.clear()
                target = delivered + n_streams
                started = time.process_time()
                hub.publish(project_id, {**fields, "seq": str(seq), "message": f"bench {i}", "progress": str(i % 100)})
                await reached.wait()
                spent += time.process_time() - started
            runs.append(round(spent / (bursts * n_streams) * 1e6, 2))
        gc.callbacks.remove(collecting)
        hang_up.set()
        await asyncio.gather(*streams, return_exceptions=True)
        left = hub.listeners
    rt.close()
    return {"streams": n_streams, "bursts": bursts, "us_per_delivery": statistics.median(runs), "runs": runs,
            "gc_us_per_delivery": round(gc_spent[0] / (repeat * bursts * n_streams) * 1e6, 2), "listeners_left": left}


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--streams", type=int, default=1000)
    parser.add_argument("--bursts", type=int, default=50)
    parser.add_argument("--repeat", type=int, default=5)
    args = parser.parse_args()
    try:
        import uvloop

        runner = uvloop.run
    except ImportError:
        runner = asyncio.run
    print(json.dumps(runner(run(args.streams, args.bursts, args.repeat))))


if __name__ == "__main__":
    main()
