"""Image fan-out: one project's images spread over the assets workers, against the loop in one thread.

    python bench/orchestration/fanout.py                  # 20 segments, 0.5 s per image, 3 projects per mode
    python bench/orchestration/fanout.py --projects 1     # quicker

ytmaker's real pipeline with the Procfile's workers on a private Redis and
PostgreSQL (as run.py), instant providers, and an image provider that waits
``--delay`` seconds per image (a remote provider's latency). Projects are sent
one at a time; the figure is the images stage's wall time, from its start to
its finish as recorded in ``stage_runs``, against the ideal
ceil(segments / concurrency) x delay, where concurrency is the assets queue's
processes x threads in the Procfile (target: within 1.3x).
"""

from __future__ import annotations

import argparse
import math
import re
import sys
import tempfile
import time
from pathlib import Path

if __package__ in (None, ""):
    sys.path.insert(0, str(Path(__file__).resolve().parents[2]))

from bench.orchestration.harness import RedisServer, median
from bench.orchestration.systems import YtmakerSystem, procfile_commands, wait_done


def assets_concurrency() -> int:
    command = procfile_commands()["assets"]
    processes = int(re.search(r"--processes (\d+)", command).group(1))
    threads = int(re.search(r"--threads (\d+)", command).group(1))
    return processes * threads


def text_for(segments: int) -> str:
    # The offline writer groups about three of these sentences per segment.
    return " ".join(f"Fact number {i} is that a honeybee visits about {i * 7} flowers on one trip."
                     for i in range(1, 3 * segments + 1))


def run_mode(fanout: str, redis_url: str, segments: int, delay: float, projects: int) -> tuple[list[float], int]:
    from sqlalchemy import select

    from ytmaker.db.models import Script, StageRun
    from ytmaker.projects import create_project

    system = YtmakerSystem(redis_url, Path(tempfile.mkdtemp(prefix="ytm-fanout-logs-")),
                           extra_env={"YTMAKER_IMAGE_FANOUT": fanout, "YTMAKER_INSTANT_IMAGE_DELAY_S": str(delay)})
    system.start()
    walls, counts = [], set()
    try:
        for _ in range(projects + 1):  # the first warms the workers up and is not counted
            project = create_project(system.rt, text_for(segments))
            system.send(project.id)
            wait_done(system, [project.id], timeout_s=120 + 2 * segments * delay, interval_s=0.02)
            with system.rt.db.session() as session:
                run = session.get(StageRun, (project.id, "images"))
                counts.add(len(session.scalar(select(Script.segments).where(Script.project_id == project.id))))
            walls.append((run.finished_at - run.started_at).total_seconds())
            time.sleep(0.2)
    finally:
        system.stop()
    return walls[1:], counts.pop() if len(counts) == 1 else -1


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--segments", type=int, default=20)
    parser.add_argument("--delay", type=float, default=0.5, help="seconds per image")
    parser.add_argument("--projects", type=int, default=3, help="projects per mode (median)")
    args = parser.parse_args()
    concurrency = assets_concurrency()
    server = RedisServer()
    rows = []
    try:
        for mode in ("on", "off"):
            print(f"image fan-out {mode}: {args.projects} projects ...", file=sys.stderr, flush=True)
            walls, segments = run_mode(mode, server.url(0), args.segments, args.delay, args.projects)
            rows.append((mode, segments, walls))
    finally:
        server.stop()
    ideal = math.ceil(rows[0][1] / concurrency) * args.delay
    print(f"{rows[0][1]} segments, {args.delay} s per image, assets concurrency {concurrency} (Procfile); "
          f"ideal ceil({rows[0][1]}/{concurrency}) x {args.delay} = {ideal:.2f} s")
    print("| images stage | wall s, median | runs | / ideal |")
    print("|---|---|---|---|")
    for mode, _segments, walls in rows:
        label = "fanned out (one message per segment)" if mode == "on" else "loop in one thread (baseline)"
        print(f"| {label} | {median(walls):.2f} | {', '.join(f'{w:.2f}' for w in walls)} | {median(walls) / ideal:.2f}x |")


if __name__ == "__main__":
    main()
