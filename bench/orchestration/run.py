"""Orchestration benchmark: ytmaker against the seed's Celery design (on ytmaker's stages, and no-op) and a bare Dramatiq floor.

    python bench/orchestration/run.py            # N=300 projects at once, 3 repetitions, medians
    python bench/orchestration/run.py --quick    # N=30, 1 repetition: a minute or two
    python bench/orchestration/run.py --only ytmaker --n 100

Each system runs in a subprocess of its own (imports and settings stay
apart), one after the other, against one private redis-server started for the
run (so ``INFO commandstats`` counts only the benchmark) and, for ytmaker, a
PostgreSQL schema dropped afterwards. Per system: warm-up, idle latency
(projects sent one at a time), then the repetitions of N projects sent at once.
See README.md in this directory for what each figure means.
"""

from __future__ import annotations

import argparse
import json
import subprocess
import sys
import tempfile
import time
from pathlib import Path

if __package__ in (None, ""):
    sys.path.insert(0, str(Path(__file__).resolve().parents[2]))

from bench.orchestration.harness import (
    RedisServer,
    command_delta,
    cpu_seconds,
    median,
    percentile,
    pids_named,
    postgres_pids,
)

SYSTEMS = ("ytmaker", "celery-stages", "celery-stages-kept", "celery", "dramatiq")
REDIS_DB = {"ytmaker": 0, "celery": 1, "dramatiq": 2, "celery-stages": 3, "celery-stages-kept": 4}


def measure(system_name: str, redis_url: str, n: int, reps: int, idle: int, timeout_s: float, log_dir: Path,
            command_calls) -> dict:
    from bench.orchestration import systems

    cls = {"ytmaker": systems.YtmakerSystem, "celery-stages": systems.CeleryStagesSystem,
           "celery-stages-kept": systems.CeleryStagesKeptSystem, "celery": systems.CelerySystem,
           "dramatiq": systems.DramatiqSystem}[system_name]
    system = cls(redis_url, log_dir)
    system.start()
    try:
        # Warm-up: imports, connection pools, first queries (not measured).
        for i in range(3):
            pid = system.new_project(i)
            system.send(pid)
            systems.wait_done(system, [pid], timeout_s=120, interval_s=0.01)
        idle_latencies = []
        for i in range(idle):
            pid = system.new_project(i)
            sent = time.time()
            system.send(pid)
            # Completion times are recorded by the systems themselves, so a slow poll loses no precision;
            # a 2 ms poll loaded PostgreSQL (ytmaker) with 500 queries a second while it was being timed.
            systems.wait_done(system, [pid], timeout_s=60, interval_s=0.025)
            idle_latencies.append(system.done_times([pid])[pid] - sent)
            time.sleep(0.05)
        rss_before = system.workers.rss_mb()
        runs = []
        for _ in range(reps):
            ids = [system.new_project(i) for i in range(n)]
            time.sleep(0.5)
            calls_before, db_before = command_calls(), system.db_counts()
            redis_pids = pids_named(f"redis-server 127.0.0.1:{redis_url.rsplit(':', 1)[1].split('/')[0]}")
            cpu_before = (system.workers.cpu_s(), cpu_seconds(postgres_pids()), cpu_seconds(redis_pids))
            sent_at = {}
            start = time.time()
            for pid in ids:
                sent_at[pid] = time.time()
                system.send(pid)
            systems.wait_done(system, ids, timeout_s=timeout_s, interval_s=0.05)
            calls_after = command_calls()
            cpu_after = (system.workers.cpu_s(), cpu_seconds(postgres_pids()), cpu_seconds(redis_pids))
            time.sleep(0.6)  # the workers' SQL counters are written four times a second
            db_after = system.db_counts()
            done = system.done_times(ids)
            latencies = [done[pid] - sent_at[pid] for pid in ids]
            commands = command_delta(calls_before, calls_after, ignore=("info", "hlen", "hmget"))
            runs.append({
                "throughput": n / (max(done.values()) - start),
                "p50": percentile(latencies, 0.5),
                "p95": percentile(latencies, 0.95),
                "redis_per_project": sum(commands.values()) / n,
                "redis_top": sorted(commands.items(), key=lambda kv: -kv[1])[:8],
                "db_per_project": {k: (db_after.get(k, 0) - db_before.get(k, 0)) / n for k in db_after},
                # CPU ms per project: the workers' processes, every PostgreSQL backend on the machine, the private Redis.
                "cpu_ms": [1000 * (a - b) / n for a, b in zip(cpu_after, cpu_before, strict=True)],
            })
            time.sleep(0.5)
        rss_after = system.workers.rss_mb()
        return {"key": system_name, "system": system.name, "shape": system.shape, "runs": runs, "idle": idle_latencies,
                "rss_before": rss_before, "rss_after": rss_after}
    finally:
        system.stop()


def summarise(result: dict) -> dict:
    runs = result["runs"]
    pick = sorted(runs, key=lambda r: r["throughput"])[len(runs) // 2]  # the median run, for the per-project counts
    db = pick["db_per_project"]
    return {
        "key": result["key"],
        "system": result["system"],
        "projects_s": median([r["throughput"] for r in runs]),
        "p50_ms": 1000 * median([r["p50"] for r in runs]),
        "p95_ms": 1000 * median([r["p95"] for r in runs]),
        "idle_ms": 1000 * median(result["idle"]),
        "redis": median([r["redis_per_project"] for r in runs]),
        "db": (db.get("statements", 0), db.get("commits", 0) + db.get("rollbacks", 0), db.get("checkouts", 0)) if db else None,
        "rss": (result["rss_before"], result["rss_after"]),
        "cpu_ms": [median([r["cpu_ms"][i] for r in runs]) for i in range(3)] if "cpu_ms" in runs[0] else None,
    }


def table(rows: list[dict]) -> str:
    head = ("system", "projects/s", "p50 ms", "p95 ms", "idle 1-project ms", "Redis cmds/project",
            "DB stmts/tx/checkouts per project", "CPU ms/project workers+PG+Redis", "worker RSS MB before->after")
    lines = [head]
    for r in rows:
        db = "-" if r["db"] is None else "{:.1f} / {:.1f} / {:.1f}".format(*r["db"])
        cpu = "-" if not r.get("cpu_ms") else "{:.1f} + {:.1f} + {:.1f}".format(*r["cpu_ms"])
        lines.append((r["system"], f"{r['projects_s']:.1f}", f"{r['p50_ms']:.0f}", f"{r['p95_ms']:.0f}", f"{r['idle_ms']:.0f}",
                      f"{r['redis']:.0f}", db, cpu, "{:.0f} -> {:.0f} ({:+.0f})".format(*r["rss"], r["rss"][1] - r["rss"][0])))
    widths = [max(len(line[i]) for line in lines) for i in range(len(head))]
    out = ["| " + " | ".join(cell.ljust(w) for cell, w in zip(line, widths, strict=True)) + " |" for line in lines]
    out.insert(1, "|" + "|".join("-" * (w + 2) for w in widths) + "|")
    return "\n".join(out)


def ratios(by_key: dict[str, dict]) -> str:
    """ytmaker against each other system that ran: throughput ratio and idle latencies."""
    if "ytmaker" not in by_key:
        return ""
    y = by_key["ytmaker"]
    lines = []
    if "celery-stages" in by_key:  # the fair one: the same stage functions under both orchestrations
        c = by_key["celery-stages"]
        lines.append(f"ytmaker / celery on ytmaker stages throughput: {y['projects_s'] / c['projects_s']:.2f}x (target >= 1.3x); "
                     f"idle 1-project {y['idle_ms']:.0f} ms against {c['idle_ms']:.0f} ms (target: no worse)")
    if "celery-stages-kept" in by_key:
        c = by_key["celery-stages-kept"]
        lines.append(f"ytmaker / celery on ytmaker stages, children kept: {y['projects_s'] / c['projects_s']:.2f}x; "
                     f"idle 1-project {y['idle_ms']:.0f} ms against {c['idle_ms']:.0f} ms")
    if "celery" in by_key:
        ratio = y["projects_s"] / by_key["celery"]["projects_s"]
        lines.append(f"ytmaker / celery (no-op tasks) throughput: {ratio:.2f}x (earlier target >= 4x)")
    if "dramatiq" in by_key:
        ratio = by_key["dramatiq"]["projects_s"] / y["projects_s"]
        lines.append(f"bare dramatiq (no-op) / ytmaker throughput: {ratio:.2f}x (earlier target <= 1.5x)")
    return "\n".join(lines)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--n", type=int, help="projects sent at once per repetition (default 300; --quick 30)")
    parser.add_argument("--reps", type=int, help="repetitions (default 3; --quick 1)")
    parser.add_argument("--idle", type=int, help="projects sent one at a time for the idle latency (default 20; --quick 5)")
    parser.add_argument("--quick", action="store_true", help="small N for development and the CI smoke test")
    parser.add_argument("--only", choices=SYSTEMS, action="append", help="run only this system (repeatable)")
    parser.add_argument("--json", type=Path, help="also write the raw results here")
    parser.add_argument("--timeout", type=float, default=600, help="seconds a repetition may take")
    parser.add_argument("--one", help=argparse.SUPPRESS)
    parser.add_argument("--redis", help=argparse.SUPPRESS)
    parser.add_argument("--logs", help=argparse.SUPPRESS)
    args = parser.parse_args()
    n = args.n or (30 if args.quick else 300)
    reps = args.reps or (1 if args.quick else 3)
    idle = args.idle if args.idle is not None else (5 if args.quick else 20)

    if args.one:  # child: measure one system, print JSON
        from bench.orchestration.harness import RedisServer as _Server

        server = _Server.__new__(_Server)
        server.base_url, server.process = args.redis, None
        result = measure(args.one, f"{args.redis}/{REDIS_DB[args.one]}", n, reps, idle, args.timeout, Path(args.logs),
                         server.command_calls)
        print("RESULT " + json.dumps(result))
        return

    server = RedisServer()
    log_dir = Path(tempfile.mkdtemp(prefix="ytm-bench-logs-"))
    results = []
    try:
        for name in args.only or SYSTEMS:
            print(f"running {name}: N={n} x {reps}, idle {idle} ...", file=sys.stderr, flush=True)
            proc = subprocess.run([sys.executable, __file__, "--one", name, "--redis", server.base_url, "--logs", str(log_dir),
                                   "--n", str(n), "--reps", str(reps), "--idle", str(idle), "--timeout", str(args.timeout)],
                                  capture_output=True, text=True)
            line = next((x for x in proc.stdout.splitlines() if x.startswith("RESULT ")), None)
            if proc.returncode != 0 or line is None:
                sys.exit(f"{name} failed:\n{proc.stderr[-4000:]}\nworker logs: {log_dir}")
            results.append(json.loads(line.removeprefix("RESULT ")))
    finally:
        server.stop()
    rows = [summarise(r) for r in results]
    print(f"N={n} projects at once, {reps} repetition(s), medians; idle latency over {idle} projects sent one at a time")
    print(table(rows))
    print(ratios({r["key"]: r for r in rows}))
    for r in results:
        top = sorted(r["runs"], key=lambda x: x["throughput"])[len(r["runs"]) // 2]["redis_top"]
        print(f"{r['system']}: busiest Redis commands per project: "
              + ", ".join(f"{name} {calls / n:.1f}" for name, calls in top))
    if args.json:
        args.json.write_text(json.dumps(results, indent=2))
    import shutil

    shutil.rmtree(log_dir, ignore_errors=True)


if __name__ == "__main__":
    main()
