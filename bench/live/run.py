"""Live-service benchmark: push latency over SSE against 1 s polling, memory of 1,000 streams, POST /projects under load.

    python bench/live/run.py [--clients 1000] [--duration 30] [--create-rate 100] [--create-duration 30]

Distributed mode as deployed: ``ytmaker serve`` (one uvicorn process) on a private redis-server and
PostgreSQL (``BENCH_POSTGRES_URL``, default the tests' database, in a schema of its own that is
dropped afterwards). Clients run in other processes (aiohttp): SSE followers in 4 processes, 1 s
pollers in one, the POST load generator in one. Progress is written as the workers write it
(``RedisProgressStore.update``), each write carrying its wall-clock time, so a push's latency and a
poll's staleness are both "read time - write time". Prints the figures as JSON.
"""

from __future__ import annotations

import argparse
import json
import multiprocessing as mp
import os
import signal
import statistics
import subprocess
import sys
import tempfile
import time
import uuid
from bisect import bisect_left
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass
from pathlib import Path
from typing import Any

if __package__ in (None, ""):
    sys.path.insert(0, str(Path(__file__).resolve().parents[2]))

import httpx
import psutil
from sqlalchemy import create_engine, text

from bench.live import clients
from bench.orchestration.harness import RedisServer, free_port

BIN = Path(sys.executable).parent
TEXT = ("Honeybees talk by dancing. A forager that found flowers walks a figure eight on the comb. "
        "The angle of the dance points to the food, and its length tells the distance.")
POSTGRES = os.environ.get("BENCH_POSTGRES_URL", "postgresql+psycopg://postgres@127.0.0.1:5432/test")


def pct(values: list[float], p: float) -> float:
    ordered = sorted(values)
    return ordered[min(len(ordered) - 1, int(p / 100 * len(ordered)))] if ordered else float("nan")


def ms(values: list[float]) -> dict:
    return {"n": len(values), "p50_ms": round(pct(values, 50) * 1000, 2), "p95_ms": round(pct(values, 95) * 1000, 2),
            "p99_ms": round(pct(values, 99) * 1000, 2), "max_ms": round(max(values, default=float("nan")) * 1000, 2),
            "mean_ms": round(statistics.fmean(values) * 1000, 2) if values else None}


def rss_mb(pid: int) -> float:
    return round(psutil.Process(pid).memory_info().rss / 2**20, 1)


def staleness(writes: list[tuple[str, float]], polls: list[tuple[int, str, float, float]]) -> list[float]:
    """For each write and each poller of its project: when that poller first saw it (or a later write), minus its time."""
    by_poller: dict[int, list[tuple[float, float]]] = {}
    project_of: dict[int, str] = {}
    for poller, pid, at, seen in polls:
        by_poller.setdefault(poller, []).append((seen, at))
        project_of[poller] = pid
    out = []
    for poller, seq in by_poller.items():
        seq.sort(key=lambda s: s[1])
        seen_max, times = [], []
        best = 0.0
        for seen, at in seq:
            best = max(best, seen)
            seen_max.append(best)
            times.append(at)
        for pid, written in writes:
            if pid != project_of[poller]:
                continue
            i = bisect_left(seen_max, written)
            if i < len(times):
                out.append(times[i] - written)
    return out


def sse_phase(rt, base: str, api_pid: int, projects: list[str], n_clients: int, rate: float, duration_s: float,
              n_pollers: int) -> dict:
    ctx = mp.get_context("spawn")
    stop, results = ctx.Event(), ctx.Queue()
    targets = [projects[i % len(projects)] for i in range(n_clients)]
    groups = [targets[i::4] for i in range(4)]
    readies = [ctx.Event() for _ in groups]
    procs = [ctx.Process(target=clients.sse_clients, args=(base, g, r, stop, results)) for g, r in zip(groups, readies)]
    poll_ready = ctx.Event()
    poll_targets = [projects[i % len(projects)] for i in range(n_pollers)]
    procs.append(ctx.Process(target=clients.pollers, args=(base, poll_targets, 1.0, poll_ready, stop, results)))
    for p in procs:
        p.start()
    for r in [*readies, poll_ready]:
        if not r.wait(180):
            raise SystemExit("clients did not connect in time")
    time.sleep(1.0)  # let the last connections settle before the clock starts
    api = psutil.Process(api_pid)
    held = rss_mb(api_pid)
    cpu0 = sum(api.cpu_times()[:2])
    writes: list[tuple[str, float]] = []
    start = time.monotonic()
    for i in range(int(rate * duration_s)):
        time.sleep(max(0.0, start + i / rate - time.monotonic()))
        pid = projects[i % len(projects)]
        stamp = f"{time.time():.6f}"
        rt.progress.update(pid, stage="images", stage_progress=i % 100, message=f"bench {stamp}")
        writes.append((pid, float(stamp)))
    rt.progress.flush()
    time.sleep(2.0)
    api_cpu_s = sum(api.cpu_times()[:2]) - cpu0
    peak = rss_mb(api_pid)
    stop.set()
    outs = [results.get(timeout=120) for _ in procs]
    for p in procs:
        p.join(60)
    followers = [o for o in outs if "latencies" in o]
    poll = next(o for o in outs if "polls" in o)
    latencies = [x for o in followers for x in o["latencies"]]
    subscribers = {pid: targets.count(pid) for pid in set(targets)}
    expected = sum(subscribers[pid] for pid, _ in writes)
    stale = staleness(writes, [tuple(p) for p in poll["polls"]])
    poll_s = poll["stopped"] - poll["started"]
    return {
        "clients": n_clients, "projects": len(projects), "writes": len(writes), "writes_per_s": rate,
        "sse": {**ms(latencies), "delivered": len(latencies), "expected": expected,
                "errors": sum(o["errors"] for o in followers), "connected": sum(o["connected"] for o in followers)},
        "polling_1s": {"pollers": n_pollers, "staleness": ms(stale), "requests_per_s": round(poll["requests"] / poll_s, 1),
                       "errors": poll["errors"]},
        "api_rss_mb_holding_streams": held, "api_rss_mb_after_run": peak,
        "api_cpu_pct": round(100 * api_cpu_s / (duration_s + 2.0), 1),
    }


def cpu_s(pid: int) -> float:
    """User + system CPU of a process and its children (``--workers N``: uvicorn's worker processes)."""
    procs = [psutil.Process(pid), *psutil.Process(pid).children(recursive=True)]
    return sum(sum(p.cpu_times()[:2]) for p in procs)


def post_phase(base: str, rate: float, duration_s: float, api_pid: int) -> dict:
    ctx = mp.get_context("spawn")
    results = ctx.Queue()
    proc = ctx.Process(target=clients.post_load, args=(base, {"text": TEXT}, rate, duration_s, results))
    load_before, cpu0 = os.getloadavg(), cpu_s(api_pid)
    proc.start()
    out = results.get(timeout=duration_s + 300)
    proc.join(60)
    created = out["statuses"].get(201, 0)
    # after the first 2 s: a process just started compiles its SQL and opens its connections on the first requests
    warm = [lat for lat, at in zip(out["latencies"], out["sent_at"]) if at - out["start"] >= 2.0]
    return {"rate": rate, "duration_s": duration_s, "wall_s": round(out["wall_s"], 2), **ms(out["latencies"]),
            "after_first_2s": ms(warm), "slow_seconds": slow_seconds(out["latencies"], out["sent_at"], out["start"]),
            "statuses": out["statuses"], "api_cpu_ms_per_creation": round(1000 * (cpu_s(api_pid) - cpu0) / max(1, created), 2),
            "loadavg_before": [round(x, 1) for x in load_before], "loadavg_after": [round(x, 1) for x in os.getloadavg()]}


def slow_seconds(latencies: list[float], sent_at: list[float], start: float, over_s: float = 0.05) -> list[list]:
    """[second of the run, requests sent in it, how many took over ``over_s``, the slowest in ms] for each second that had one."""
    seconds: dict[int, list[float]] = {}
    for latency, at in zip(latencies, sent_at):
        seconds.setdefault(int(at - start), []).append(latency)
    return [[second, len(lat), sum(x > over_s for x in lat), round(1000 * max(lat), 1)]
            for second, lat in sorted(seconds.items()) if max(lat) > over_s]


def database_alone(engine, schema: str, rate: float, duration_s: float) -> dict:
    """The baseline of the creations: PostgreSQL alone committing one row of a project's size per creation, at the
    same rate, from one connection in autocommit (what a creation's single statement waits for at the least).

    Each latency runs from the INSERT's scheduled time, as the API's open-loop clients measure theirs: a commit that
    stalls delays the ones due behind it, which a latency taken from each statement's own start would not show."""
    with engine.begin() as connection:
        connection.execute(text(f"CREATE TABLE {schema}.commits (id text, body text)"))
    latencies = []
    with engine.connect().execution_options(isolation_level="AUTOCOMMIT") as connection:
        insert = text(f"INSERT INTO {schema}.commits VALUES (:id, :body)")
        start = time.monotonic()
        for i in range(int(rate * duration_s)):
            due = start + i / rate
            time.sleep(max(0.0, due - time.monotonic()))
            connection.execute(insert, {"id": uuid.uuid4().hex, "body": TEXT * 4})
            latencies.append(time.monotonic() - due)
    with engine.begin() as connection:  # not left for autovacuum to work on while the API's creations are measured
        connection.execute(text(f"DROP TABLE {schema}.commits"))
    return {"rate": rate, "duration_s": duration_s, **ms(latencies)}


def start_api(base: str, port: int, env: dict[str, str], *extra: str) -> subprocess.Popen:
    api = subprocess.Popen([str(BIN / "ytmaker"), "serve", "--port", str(port), *extra], env=env, start_new_session=True,
                           stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
    deadline = time.monotonic() + 60
    while True:
        try:
            if httpx.get(f"{base}/readyz", timeout=1).status_code == 200:
                return api
        except httpx.HTTPError:
            pass
        if time.monotonic() > deadline:
            raise SystemExit("the API did not start")
        time.sleep(0.2)


def stop_api(api: subprocess.Popen) -> None:
    if api.poll() is None:
        os.killpg(api.pid, signal.SIGTERM)
        api.wait(30)


@dataclass
class Service:
    """What a benchmark of ``ytmaker serve`` runs against: a private redis-server and PostgreSQL schema, migrated."""

    rt: Any
    env: dict[str, str]  # the environment for `ytmaker serve`
    base: str
    port: int
    engine: Any
    schema: str


@contextmanager
def private_service(name: str, **extra_env: str) -> Iterator[Service]:
    from ytmaker.config import Settings
    from ytmaker.db.migrate import upgrade
    from ytmaker.runtime import build_runtime

    redis_server = RedisServer()
    schema = f"bench_{name}_{uuid.uuid4().hex[:8]}"
    engine = create_engine(POSTGRES)
    with engine.begin() as connection:
        connection.execute(text(f"CREATE SCHEMA {schema}"))
    database_url = f"{POSTGRES}?options=-csearch_path%3D{schema}"
    data_dir = Path(tempfile.mkdtemp(prefix=f"ytm-bench-{name}-"))
    env = {k: v for k, v in os.environ.items() if not k.startswith("YTMAKER_")}
    env.update(YTMAKER_REDIS_URL=redis_server.url(0), YTMAKER_DATABASE_URL=database_url, YTMAKER_DATA_DIR=str(data_dir),
               YTMAKER_METRICS="false", **extra_env)
    port = free_port()
    rt = None
    try:
        settings = Settings(_env_file=None, redis_url=redis_server.url(0), database_url=database_url, data_dir=data_dir)
        rt = build_runtime(settings)
        upgrade(rt.db)
        yield Service(rt, env, f"http://127.0.0.1:{port}", port, engine, schema)
    finally:
        if rt is not None:
            rt.close()
        with engine.begin() as connection:
            connection.execute(text(f"DROP SCHEMA {schema} CASCADE"))
        engine.dispose()
        redis_server.stop()


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--clients", type=int, default=1000)
    parser.add_argument("--projects", type=int, default=100)
    parser.add_argument("--duration", type=float, default=30.0)
    parser.add_argument("--rate", type=float, default=100.0, help="progress writes per second, spread over the projects")
    parser.add_argument("--one-project-rate", type=float, default=2.0, help="writes per second when every client follows one project")
    parser.add_argument("--pollers", type=int, default=100)
    parser.add_argument("--create-rate", type=float, default=100.0)
    parser.add_argument("--create-duration", type=float, default=30.0)
    parser.add_argument("--create-workers", type=int, default=2, help="then again on `ytmaker serve --workers N` (1: skip)")
    parser.add_argument("--push-only", action="store_true", help="the push latency part only (and its polling), no creations")
    parser.add_argument("--creations-only", action="store_true", help="the POST /projects part only, no streams or pollers")
    args = parser.parse_args()

    from ytmaker.projects import create_project

    with private_service("live", YTMAKER_API_CREATE_LIMIT="1000000") as service:
        rt, base, api = service.rt, service.base, None
        try:
            projects = [] if args.creations_only else [create_project(rt, TEXT).id for _ in range(args.projects)]
            for pid in projects:
                rt.progress.update(pid, status="assets_generating", message="started")
            api = start_api(base, service.port, service.env)
            report: dict = {"api_rss_mb_idle": rss_mb(api.pid)}
            if not args.creations_only:
                report["spread"] = sse_phase(rt, base, api.pid, projects, args.clients, args.rate, args.duration, args.pollers)
                print(json.dumps(report["spread"]), flush=True)
                report["one_project"] = sse_phase(rt, base, api.pid, projects[:1], args.clients, args.one_project_rate,
                                                  args.duration, args.pollers)
                print(json.dumps(report["one_project"]), flush=True)
            if args.push_only:
                print(json.dumps({**report, "load_average": os.getloadavg()}, indent=2))
                return
            report["database_alone"] = database_alone(service.engine, service.schema, args.create_rate, args.create_duration)
            print(json.dumps(report["database_alone"]), flush=True)
            report["create"] = post_phase(base, args.create_rate, args.create_duration, api.pid)
            report["api_rss_mb_end"] = rss_mb(api.pid)
            print(json.dumps(report["create"]), flush=True)
            if args.create_workers > 1:  # the same load on `ytmaker serve --workers N`: one process is one core at most
                stop_api(api)
                api = start_api(base, service.port, service.env, "--workers", str(args.create_workers))
                report[f"create_{args.create_workers}_workers"] = post_phase(base, args.create_rate, args.create_duration,
                                                                             api.pid)
            print(json.dumps(report, indent=2))
        finally:
            if api is not None:
                stop_api(api)

if __name__ == "__main__":
    main()
