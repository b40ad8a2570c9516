"""Batch benchmark: what ``ytmaker batch`` adds over making the same projects one by one, and how fast it checks a file.

    python bench/batch/run.py                 # 100 rows, 3 rounds of each way, then a 10,000-row file checked
    python bench/batch/run.py --rows 30 --rounds 1

1. Overhead, distributed mode: the Procfile's workers (instant providers, on a
   private redis-server and a PostgreSQL schema of their own, as
   bench/orchestration runs them) make N projects twice per round, in
   alternating order: **one by one** (``create_project`` + ``start_generation``
   per project, as a service would) and **as a batch** (a JSON Lines file of N
   rows: ``batches.plan`` checks every row, records the batch and its rows,
   then ``batches.start``). Each way's time is from the first call to the last
   project's completion; the texts differ per round so no row is skipped.
2. Checking a 10,000-row file: parsing alone (the baseline) against the full
   check ``ytmaker batch`` runs before creating anything (``check_rows``).
"""

from __future__ import annotations

import argparse
import json
import statistics
import sys
import tempfile
import time
from pathlib import Path

if __package__ in (None, ""):
    sys.path.insert(0, str(Path(__file__).resolve().parents[2]))

from bench.orchestration.harness import RedisServer, cpu_seconds
from bench.orchestration.systems import YtmakerSystem, wait_done

WORDS = ["solar", "wind", "battery", "grid", "price", "factory", "scale", "panel", "river", "city", "energy", "storage", "turbine", "cell"]


def text(round_: int, way: str, index: int) -> str:
    return (f"Story {index} of {way} round {round_} is about the grid. "
            + " ".join(WORDS[(index + k) % len(WORDS)] for k in range(40)).capitalize() + ".")


class Cost:
    """What one way of making N projects cost: wall time, CPU (the sending process's calls, the workers, Redis), SQL."""

    def __init__(self, system: YtmakerSystem, redis: RedisServer) -> None:
        self.system, self.redis = system, redis

    def __enter__(self) -> Cost:
        self.sql = self.system.db_counts()
        self.workers_cpu = self.system.workers.cpu_s() + self._redis_cpu()
        self.started = time.perf_counter()
        self.sending_cpu = 0.0
        return self

    def sending(self):
        """Around the calls a user makes (plan, start, create, start_generation): their CPU and SQL are counted."""
        cost = self

        class Sending:
            def __enter__(self) -> None:
                cost.system._counting = True
                self.cpu = time.process_time()

            def __exit__(self, *_exc) -> None:
                cost.sending_cpu += time.process_time() - self.cpu
                cost.system._counting = False
        return Sending()

    def _redis_cpu(self) -> float:
        return cpu_seconds([self.redis.process.pid]) if self.redis.process else 0.0

    def __exit__(self, *_exc) -> None:
        self.wall = time.perf_counter() - self.started
        time.sleep(0.6)  # the workers' SQL counters are written four times a second
        after = self.system.db_counts()
        self.statements = after["statements"] - self.sql["statements"]
        self.commits = after["commits"] - self.sql["commits"]
        self.cpu = self.system.workers.cpu_s() + self._redis_cpu() - self.workers_cpu + self.sending_cpu

    def figures(self) -> dict:
        return {"wall_s": round(self.wall, 3), "cpu_s": round(self.cpu, 3), "sending_cpu_s": round(self.sending_cpu, 4),
                "statements": self.statements, "commits": self.commits}


def one_by_one(system: YtmakerSystem, redis: RedisServer, rows: int, round_: int) -> dict:
    from ytmaker.pipelines import start_generation
    from ytmaker.projects import create_project

    with Cost(system, redis) as cost:
        ids = []
        for i in range(rows):
            with cost.sending():
                project = create_project(system.rt, text(round_, "single", i))
                start_generation(project.id, system.rt)
            ids.append(project.id)
            if i == 0:
                first_sent = time.perf_counter() - cost.started
        wait_done(system, ids, timeout_s=600, interval_s=0.02)
    return cost.figures() | {"first_sent_s": round(first_sent, 4)}


def as_batch(system: YtmakerSystem, redis: RedisServer, rows: int, round_: int, work: Path) -> dict:
    from ytmaker import batches

    source = work / f"batch-{round_}.jsonl"
    source.write_text("".join(json.dumps({"text": text(round_, "batch", i)}) + "\n" for i in range(rows)))
    with Cost(system, redis) as cost:
        with cost.sending():
            _, planned = batches.plan(system.rt, source)
            planning = time.perf_counter() - cost.started
            batches.start(system.rt, planned)
        wait_done(system, [p.project_id for p in planned], timeout_s=600, interval_s=0.02)
    return cost.figures() | {"planning_s": round(planning, 4)}


def overhead(singles: list[dict], batched: list[dict], key: str) -> dict:
    """The batch's extra ``key`` over one by one, in % of one by one: per round (paired), their mean and the sums'."""
    pairs = [100 * (b[key] - s[key]) / s[key] for s, b in zip(singles, batched)]
    total = 100 * (sum(b[key] for b in batched) - sum(s[key] for s in singles)) / sum(s[key] for s in singles)
    spread = statistics.stdev(pairs) / len(pairs) ** 0.5 if len(pairs) > 1 else float("nan")
    return {"per_round_pct": [round(x, 1) for x in pairs], "of_sums_pct": round(total, 2),
            "mean_pct": round(statistics.mean(pairs), 2), "stderr_pct": round(spread, 2)}


def check_speed(rt, rows: int, work: Path) -> dict:
    from ytmaker.batch_file import check_rows, read_rows

    source = work / "big.jsonl"
    source.write_text("".join(json.dumps({"text": text(0, "check", i), "title": f"Video {i}"}) + "\n" for i in range(rows)))
    started = time.perf_counter()
    parsed, _ = read_rows(source)
    parse_s = time.perf_counter() - started
    started = time.perf_counter()
    checked, _ = check_rows(rt, source)
    check_s = time.perf_counter() - started
    assert len(parsed) == len(checked) == rows
    return {"rows": rows, "parse_s": round(parse_s, 3), "check_s": round(check_s, 3)}


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--rows", type=int, default=100)
    parser.add_argument("--rounds", type=int, default=3)
    parser.add_argument("--check-rows", type=int, default=10_000)
    args = parser.parse_args()
    import os

    work = Path(tempfile.mkdtemp(prefix="ytm-bench-batch-"))
    redis = RedisServer()
    system = YtmakerSystem(redis.url(0), work)
    system.start()
    results: dict = {"rows": args.rows, "load_before": os.getloadavg()[0]}
    try:
        warm = [system.new_project(i) for i in range(3)]  # warm-up: imports, pools, first queries
        for project_id in warm:
            system.send(project_id)
        wait_done(system, warm, timeout_s=120, interval_s=0.02)
        singles: list[dict] = []
        batched: list[dict] = []
        for round_ in range(args.rounds):
            order = ["single", "batch"] if round_ % 2 == 0 else ["batch", "single"]
            for way in order:
                if way == "single":
                    singles.append(one_by_one(system, redis, args.rows, round_))
                else:
                    batched.append(as_batch(system, redis, args.rows, round_, work))
                print(json.dumps({"round": round_, "way": way} | (singles if way == "single" else batched)[-1]), flush=True)
        results |= {"one_by_one": singles, "batch": batched,
                    "overhead": {key: overhead(singles, batched, key) for key in ("cpu_s", "wall_s", "statements", "commits")},
                    "median_wall_s": {"one_by_one": statistics.median(s["wall_s"] for s in singles),
                                      "batch": statistics.median(b["wall_s"] for b in batched)},
                    "check": check_speed(system.rt, args.check_rows, work), "load_after": os.getloadavg()[0]}
    finally:
        system.stop()
        redis.stop() if hasattr(redis, "stop") else None
    print(json.dumps(results, indent=2))
    for key, figure in results["overhead"].items():
        print(f"batch overhead in {key}: {figure['of_sums_pct']} % of one by one over {args.rounds} rounds "
              f"(per round {figure['mean_pct']} ± {figure['stderr_pct']} %; budget < 2 %)")
    print(f"checking {args.check_rows} rows: {results['check']['check_s']} s (parsing alone {results['check']['parse_s']} s; "
          "budget < 2 s)")


if __name__ == "__main__":
    main()
