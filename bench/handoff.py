"""Stage hand-off latency on local Redis: one stage's end to the next one's start.

Runs real workers (``dramatiq ytmaker.actors``, as the Procfile starts them)
against Redis and PostgreSQL with instant providers, sends projects one at a
time (an idle system, the worst case for polling consumers), and reads the
gaps from the stage records (``finished_at`` of a stage, ``started_at`` of its
successor; render waits for the last of the three asset stages).

Baselines in the same run: Dramatiq's own RedisBroker with its default
consumer wait (1 s) and with a 100 ms wait, against ytmaker's wake-up broker
(the Procfile's setting; ``YTMAKER_WAKEUP=0`` turns it off).

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


CONFIGS = {  # name: (YTMAKER_WAKEUP, dramatiq_worker_timeout ms)
    "RedisBroker, 1 s wait (Dramatiq default)": ("0", 1000),
    "RedisBroker, 100 ms wait": ("0", 100),
    "wake-up broker (Procfile)": ("1", 1000),
}


def run(config: str, projects: int) -> dict:
    wakeup, worker_timeout_ms = CONFIGS[config]
    from sqlalchemy import create_engine, text

    schema = f"bench_{uuid.uuid4().hex[:8]}"
    admin = create_engine(POSTGRES)
    with admin.begin() as c:
        c.execute(text(f"CREATE SCHEMA {schema}"))
    data = Path(tempfile.mkdtemp(prefix="ytm-handoff-"))
    env = {k: v for k, v in os.environ.items() if not k.startswith("YTMAKER_")}
    env.update(YTMAKER_REDIS_URL=REDIS_URL, YTMAKER_DATABASE_URL=f"{POSTGRES}?options=-csearch_path%3D{schema}",
               YTMAKER_DATA_DIR=str(data), YTMAKER_IMAGE_PROVIDER="instant", YTMAKER_SPEECH_PROVIDER="instant",
               YTMAKER_RENDER_QUALITY="tiny", YTMAKER_RENDERER="instant", YTMAKER_WAKEUP=wakeup,
               dramatiq_worker_timeout=str(worker_timeout_ms))
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
    for config in CONFIGS:
        result = subprocess.run([sys.executable, __file__, "--one", config, str(args.projects)],
                                capture_output=True, text=True)
        if result.returncode != 0:
            sys.exit(result.stderr[-3000:])
        rows.append((config, eval(result.stdout.strip().splitlines()[-1])))
    print("| broker | hand-off median ms | p95 ms | one project, wall median ms |")
    print("|---|---|---|---|")
    for config, result in rows:
        all_gaps = sorted(g for gs in result["gaps"].values() for g in gs)
        p95 = all_gaps[int(0.95 * (len(all_gaps) - 1))]
        print(f"| {config} | {statistics.median(all_gaps):.1f} | {p95:.1f} | {1000 * statistics.median(result['totals']):.0f} |")
    for config, result in rows:
        print(f"{config}: " + ", ".join(f"{edge} {statistics.median(gs):.1f}" for edge, gs in result["gaps"].items()))


if __name__ == "__main__":
    if len(sys.argv) == 4 and sys.argv[1] == "--one":
        print(repr(run(sys.argv[2], int(sys.argv[3]))))
    else:
        main()
