"""The API's CPU per event delivered to a stream: N SSE streams on P projects, B bursts of one progress write each.

    python bench/live/delivery.py [--streams 1000] [--projects 1] [--bursts 20] [--client-procs 2] [--repeat 1]

``ytmaker serve`` in distributed mode (uvloop, httptools) on a private redis-server and PostgreSQL (as run.py),
its heartbeat off (an hour), N streams spread evenly over P projects (1: all on one), held by aiohttp clients in
other processes. Each burst is one write per project (``RedisProgressStore.update``, sent in one pipeline); the
next one waits until every stream has read it (a shared counter), so the API process's CPU time (psutil, user +
system) over the bursts, less what it spends idle holding the streams for as long, divided by B x N is the cost
of one delivery (with P > 1, each write's own cost shared by N / P deliveries). Also the burst's wall time: the
write to the last stream's read. Prints JSON. ``PYTHONPATH=another/tree`` runs the API on that tree's code
(the writes stay this tree's), for a before/after on the same machine.
"""

from __future__ import annotations

import argparse
import json
import multiprocessing as mp
import os
import statistics
import sys
import time
from pathlib import Path

if __package__ in (None, ""):
    sys.path.insert(0, str(Path(__file__).resolve().parents[2]))

import psutil

from bench.live import clients
from bench.live.run import TEXT, private_service, rss_mb, start_api, stop_api


def _cpu(api: psutil.Process) -> tuple[float, float]:
    times = api.cpu_times()
    return times.user, times.system


def measure(rt, api_pid: int, projects: list[str], delivered, n_streams: int, bursts: int) -> dict:
    api = psutil.Process(api_pid)
    idle_user, idle_sys = _cpu(api)
    idle_start = time.monotonic()
    time.sleep(2.0)  # what holding the streams costs with nothing to send
    idle_user_rate = (_cpu(api)[0] - idle_user) / (time.monotonic() - idle_start)
    idle_sys_rate = (_cpu(api)[1] - idle_sys) / (time.monotonic() - idle_start)
    walls = []
    user0, sys0 = _cpu(api)
    start = time.monotonic()
    for i in range(bursts):
        expected = delivered.value + n_streams
        written = time.monotonic()
        for project_id in projects:
            rt.progress.update(project_id, stage="images", stage_progress=i % 100, message=f"bench {time.time():.6f}")
        rt.progress.flush()
        deadline = written + 30
        while delivered.value < expected:
            if time.monotonic() > deadline:
                raise SystemExit(f"burst {i}: {delivered.value - expected + n_streams} of {n_streams} delivered in 30 s")
            time.sleep(0.0005)
        walls.append(time.monotonic() - written)
    elapsed = time.monotonic() - start
    user, system = _cpu(api)
    user -= user0 + idle_user_rate * elapsed
    system -= sys0 + idle_sys_rate * elapsed
    n = bursts * n_streams
    return {"deliveries": n, "us_per_delivery": round((user + system) / n * 1e6, 1),
            "user_us": round(user / n * 1e6, 1), "system_us": round(system / n * 1e6, 1),
            "burst_wall_ms": {"p50": round(statistics.median(walls) * 1000, 1), "max": round(max(walls) * 1000, 1)},
            "idle_cpu_pct": round(100 * (idle_user_rate + idle_sys_rate), 2)}


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--streams", type=int, default=1000)
    parser.add_argument("--projects", type=int, default=1, help="the streams spread over this many projects")
    parser.add_argument("--bursts", type=int, default=20)
    parser.add_argument("--client-procs", type=int, default=2)
    parser.add_argument("--repeat", type=int, default=1, help="measure this many times on the same streams")
    args = parser.parse_args()

    from ytmaker.projects import create_project

    ctx = mp.get_context("spawn")
    stop, results, delivered = ctx.Event(), ctx.Queue(), ctx.Value("q", 0)
    with private_service("delivery", YTMAKER_API_HEARTBEAT_S="3600") as service:
        rt, base, api, procs = service.rt, service.base, None, []
        try:
            projects = [create_project(rt, TEXT).id for _ in range(args.projects)]
            for project_id in projects:
                rt.progress.update(project_id, status="assets_generating", message="started")
            api = start_api(base, service.port, service.env)
            targets = [projects[i % len(projects)] for i in range(args.streams)]
            groups = [targets[i::args.client_procs] for i in range(args.client_procs)]
            readies = [ctx.Event() for _ in groups]
            procs = [ctx.Process(target=clients.sse_clients, args=(base, g, r, stop, results, delivered))
                     for g, r in zip(groups, readies)]
            for p in procs:
                p.start()
            for r in readies:
                if not r.wait(180):
                    raise SystemExit("clients did not connect in time")
            time.sleep(1.0)  # the last connections' first events
            runs = [measure(rt, api.pid, projects, delivered, args.streams, args.bursts) for _ in range(args.repeat)]
            stop.set()
            outs = [results.get(timeout=120) for _ in procs]
            print(json.dumps({"streams": args.streams, "projects": args.projects, "bursts": args.bursts,
                              "load_average": os.getloadavg(), "api_rss_mb": rss_mb(api.pid),
                              "errors": sum(o["errors"] for o in outs), "runs": runs}, indent=2))
        finally:
            stop.set()
            for p in procs:
                p.join(30)
            if api is not None:
                stop_api(api)

if __name__ == "__main__":
    main()
