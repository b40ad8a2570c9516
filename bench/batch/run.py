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

from bench.orchestration.harness import RedisServer
from bench.orchestration.systems import YtmakerSystem, wait_done

WORDS = ["solar", "wind", "battery", "grid", "price", "factory", "scale", "panel", "river", "city", "energy", "storage", "turbine", "cell"]


def text(round_: int, way: str, index: int) -> str:
    return (f"Story {index} of {way} round {round_} is about the grid. "
            + " ".join(WORDS[(index + k) % len(WORDS)] for k in range(40)).capitalize() + ".")


def one_by_one(system: YtmakerSystem, rows: int, round_: int) -> float:
    from ytmaker.pipelines import start_generation
    from ytmaker.projects import create_project

    started = time.perf_counter()
    ids = []
    for i in range(rows):
        project = create_project(system.rt, text(round_, "single", i))
        start_generation(project.id, system.rt)
        ids.append(project.id)
    wait_done(system, ids, timeout_s=600, interval_s=0.02)
    return time.perf_counter() - started


def as_batch(system: YtmakerSystem, rows: int, round_: int, work: Path) -> tuple[float, float]:
    from ytmaker import batches

    source = work / f"batch-{round_}.jsonl"
    source.write_text("".join(json.dumps({"text": text(round_, "batch", i)}) + "\n" for i in range(rows)))
    started = time.perf_counter()
    _, planned = batches.plan(system.rt, source)
    planning = time.perf_counter() - started
    batches.start(system.rt, planned)
    wait_done(system, [p.project_id for p in planned], timeout_s=600, interval_s=0.02)
    return time.perf_counter() - started, planning


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
        for i in range(3):  # warm-up: imports, pools, first queries
            system.send(system.new_project(i))
        singles, batched, planning = [], [], []
        for round_ in range(args.rounds):
            order = ["single", "batch"] if round_ % 2 == 0 else ["batch", "single"]
            for way in order:
                if way == "single":
                    singles.append(one_by_one(system, args.rows, round_))
                else:
                    total, plan_s = as_batch(system, args.rows, round_, work)
                    batched.append(total)
                    planning.append(plan_s)
                print(json.dumps({"round": round_, "way": way, "s": round((singles if way == "single" else batched)[-1], 2)}),
                      flush=True)
        single, batch = statistics.median(singles), statistics.median(batched)
        results |= {"one_by_one_s": [round(s, 2) for s in singles], "batch_s": [round(s, 2) for s in batched],
                    "planning_s": [round(s, 3) for s in planning], "median_one_by_one_s": round(single, 2),
                    "median_batch_s": round(batch, 2), "overhead_pct": round(100 * (batch - single) / single, 1),
                    "check": check_speed(system.rt, args.check_rows, work), "load_after": os.getloadavg()[0]}
    finally:
        system.stop()
        redis.stop() if hasattr(redis, "stop") else None
    print(json.dumps(results, indent=2))
    print(f"\nbatch overhead over one by one: {results['overhead_pct']} % (median of {args.rounds}; budget < 2 %)")
    print(f"checking {args.check_rows} rows: {results['check']['check_s']} s (parsing alone {results['check']['parse_s']} s; "
          "budget < 2 s)")


if __name__ == "__main__":
    main()
