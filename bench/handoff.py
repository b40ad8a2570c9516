"""Stage hand-off latency on local Redis: one stage's end to the next one's start.

Runs real workers (``dramatiq ytmaker.actors``, as the Procfile starts them)
against Redis and PostgreSQL with instant providers, sends projects one at a
time (an idle system, the worst case for polling consumers), and reads the
gaps from the stage records (``finished_at`` of a stage, ``started_at`` of its
successor; render waits for the last of the three asset stages).

Baseline in the same run: Dramatiq's default consumer wait (1 s) against the
Procfile's ``dramatiq_worker_timeout=100``.

    python bench/handoff.py [--projects 20]
"""

from __future__ import annotations

import argparse
import os
import statistics
import subprocess
import sys
import tempfile
import time
import uuid
from pathlib import Path

REDIS_URL = os.environ.get("BENCH_REDIS_URL", "redis://127.0.0.1:6379/14")
POSTGRES = os.environ.get("BENCH_POSTGRES_URL", "postgresql+psycopg://postgres@127.0.0.1:5432/test")
EDGES = [("script", "images"), ("script", "audio"), ("script", "avatars"), ("assets", "render"),
         ("render", "thumbnail"), ("thumbnail", "upload")]


def run(worker_timeout_ms: int, projects: int) -> dict:
    from sqlalchemy import create_engine, text

    schema = f"bench_{uuid.uuid4().hex[:8]}"
    admin = create_engine(POSTGRES)
    with admin.begin() as c:
        c.execute(text(f"CREATE SCHEMA {schema}"))
    data = Path(tempfile.mkdtemp(prefix="ytm-handoff-"))
    env = {k: v for k, v in os.environ.items() if not k.startswith("YTMAKER_")}
    env.update(YTMAKER_REDIS_URL=REDIS_URL, YTMAKER_DATABASE_URL=f"{POSTGRES}?options=-csearch_path%3D{schema}",
               YTMAKER_DATA_DIR=str(data), YTMAKER_IMAGE_PROVIDER="instant", YTMAKER_SPEECH_PROVIDER="instant",
               YTMAKER_RENDER_QUALITY="tiny", dramatiq_worker_timeout=str(worker_timeout_ms))
    os.environ.update(env)
    import redis

    redis.Redis.from_url(REDIS_URL).flushdb()
    bin_dir = Path(sys.executable).parent
    subprocess.run([bin_dir / "ytmaker", "db", "upgrade"], env=env, check=True, capture_output=True)
    worker = subprocess.Popen([bin_dir / "dramatiq", "ytmaker.actors", "--processes", "1", "--threads", "8"],
                              env=env, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
    try:
        from ytmaker.config import Settings
        from ytmaker.embedded import wait_for
        from ytmaker.pipelines import start_generation
        from ytmaker.projects import create_project, stage_runs
        from ytmaker.runtime import build_runtime, set_runtime

        settings = Settings(_env_file=None)
        rt = build_runtime(settings)
        set_runtime(rt)
        time.sleep(2)  # worker boot
        gaps: dict[str, list[float]] = {f"{a}->{b}": [] for a, b in EDGES}
        totals = []
        for i in range(projects):
            project = create_project(rt, f"Project {i} is about bees. Bees dance to show where flowers are.")
            started = time.monotonic()
            final = wait_for(rt, start_generation(project.id, rt), timeout_s=60, poll_s=0.01)
            totals.append(time.monotonic() - started)
            assert final.status == "completed", final.error
            runs = {r.stage: r for r in stage_runs(rt, project.id)}
            assets_done = max(runs[s].finished_at for s in ("images", "audio", "avatars"))
            for a, b in EDGES:
                end = assets_done if a == "assets" else runs[a].finished_at
                gaps[f"{a}->{b}"].append((runs[b].started_at - end).total_seconds() * 1000)
        rt.close()
        return {"gaps": gaps, "totals": totals}
    finally:
        worker.terminate()
        worker.wait(30)
        with admin.begin() as c:
            c.execute(text(f"DROP SCHEMA {schema} CASCADE"))


def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("--projects", type=int, default=20)
    args = parser.parse_args()
    rows = []
    for timeout in (1000, 100, 10):
        result = subprocess.run([sys.executable, __file__, "--one", str(timeout), str(args.projects)],
                                capture_output=True, text=True)
        if result.returncode != 0:
            sys.exit(result.stderr[-3000:])
        rows.append((timeout, eval(result.stdout.strip().splitlines()[-1])))  # noqa: S307 - our own output
    print(f"{'consumer wait':>14} | {'hand-off median ms':>18} | {'p95 ms':>7} | {'project wall median s':>21}")
    for timeout, result in rows:
        all_gaps = sorted(g for gs in result["gaps"].values() for g in gs)
        p95 = all_gaps[int(0.95 * (len(all_gaps) - 1))]
        print(f"{timeout:>11} ms | {statistics.median(all_gaps):>18.1f} | {p95:>7.1f} | {statistics.median(result['totals']):>21.3f}")
        for edge, gs in result["gaps"].items():
            print(f"{'':>14}   {edge:<18} median {statistics.median(gs):7.1f} ms")


if __name__ == "__main__":
    if len(sys.argv) == 4 and sys.argv[1] == "--one":
        print(repr(run(int(sys.argv[2]), int(sys.argv[3]))))
    else:
        main()
