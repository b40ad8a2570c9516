"""Long outages for the report: PostgreSQL stopped 30 s and 90 s, Redis killed and restarted (with its
append-only file, and empty), each while the four Procfile workers run 10 projects.

    python -m tests.chaos.outages RESULTS_DIR [--only NAME ...]

Too long for the test suite (``tests/chaos/test_infrastructure.py`` and
``tests/test_outage_*.py`` play short ones); ``scripts/reliability_report.py
--outages`` runs this and puts its rows in docs/reliability.md. Every server
is private: a PostgreSQL cluster made by initdb on its own port and a
redis-server on its own port, started and stopped here, never the machine's
own. Default recovery settings and provider backoffs (minutes), so a figure
shows what a deployment sees.
"""

from __future__ import annotations

import argparse
import json
import re
import shutil
import statistics
import sys
import tempfile
import time
from datetime import UTC, datetime
from pathlib import Path

from tests.chaos.conftest import Chaos, PrivateRedis
from tests.chaos.servers import PrivatePostgres
from tests.helpers import SHORT_TEXT, TWO_SEGMENT_TEXT
from ytmaker.pipelines import start_generation
from ytmaker.projects import create_project
from ytmaker.runtime import set_runtime

PROJECTS = 10
#: (name, service, seconds away, Redis keeps an append-only file)
SCENARIOS = [
    ("outage-postgres-30s", "postgres", 30, True),
    ("outage-postgres-90s", "postgres", 90, True),
    ("outage-redis-killed-aof", "redis", 20, True),
    ("outage-redis-restarted-empty", "redis", 5, False),
]
DEFAULTS = dict(script_backoff_ms=60_000, assets_backoff_ms=60_000, render_backoff_ms=120_000,
                thumbnail_backoff_ms=60_000, upload_backoff_ms=300_000)


def run(name: str, service: str, away_s: float, appendonly: bool, folder: Path) -> dict:
    tmp = Path(tempfile.mkdtemp(prefix=f"{name}-"))
    postgres, redis_server, world = PrivatePostgres(), PrivateRedis(tmp, appendonly=appendonly), None
    try:
        postgres.start()
        redis_server.start()
        world = Chaos(tmp, postgres.url + "?sslmode=disable", redis_server)
        world.configure(env=dict(CHAOS_DELAY_SCRIPT_MS="500", CHAOS_DELAY_IMAGES_MS="2500", CHAOS_DELAY_AUDIO_MS="2500"),
                        **DEFAULTS)
        world.start_procfile()
        ids = []
        for i in range(PROJECTS):
            project = create_project(world.rt, TWO_SEGMENT_TEXT if i % 2 else SHORT_TEXT)
            start_generation(project.id, world.rt)
            ids.append(project.id)
        world.wait_until(lambda: "images" in world.running(), 120, "the asset stages to run")
        (postgres.stop_fast if service == "postgres" else redis_server.kill)()
        time.sleep(away_s)  # the outage's length: nothing is waited for, the service is simply away this long
        (postgres.start if service == "postgres" else redis_server.start)()
        back = datetime.now(UTC)
        final = world.wait_all(ids, timeout_s=600)
        audit = world.audit(ids)
        recovery = world.completed_after(ids, back)
        failed = sum(p.status == "failed" for p in final.values())
        notes = (f"{service} {'stopped (pg_ctl -m fast)' if service == 'postgres' else 'SIGKILLed'} for {away_s:.0f} s"
                 f"{' (append-only file)' if service == 'redis' and appendonly else ''}"
                 f"{', restarted empty' if service == 'redis' and not appendonly else ''} while the 4 Procfile workers "
                 f"ran {PROJECTS} projects; default recovery settings and backoffs; {failed} failed; "
                 f"recovery column: from the service's return to each completion")
        resent = _first_resend_s(world, back)
        if resent is not None:
            notes += f"; stages re-sent from the database {resent:.1f} s after Redis came back"
        figures = dict(scenario=name, runs=len(ids), passed=sum(p.status == "completed" for p in final.values()),
                       lost=audit["lost"], duplicates=audit["duplicates"], orphans=world.orphans(),
                       recovery_median_s=round(statistics.median(recovery), 1) if recovery else None,
                       recovery_max_s=round(max(recovery), 1) if recovery else None, notes=notes,
                       problems=audit["problems"][:10], at=datetime.now(UTC).isoformat(timespec="seconds"))
        (folder / f"{name}.json").write_text(json.dumps(figures, indent=2))
        return figures
    finally:
        if world is not None:
            world.stop_all()
            world.cleanup()
            set_runtime(None)
            if world.rt is not None:
                world.rt.close()
        redis_server.kill()
        postgres.remove()
        shutil.rmtree(tmp, ignore_errors=True)


def _first_resend_s(world: Chaos, back: datetime) -> float | None:
    """Seconds from ``back`` to the first worker's re-send of every queued stage (Redis came back empty)."""
    stamps = []
    for worker in world.workers:
        for line in worker.log.read_text(errors="replace").splitlines():
            if "redis_data_lost_stages_resent" in line and (found := re.search(r'"timestamp": "([^"]+)"', line)):
                stamps.append(datetime.fromisoformat(found.group(1).replace("Z", "+00:00")))
    return (min(stamps) - back).total_seconds() if stamps else None


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("results", type=Path)
    parser.add_argument("--only", nargs="*", help="scenario names")
    args = parser.parse_args()
    args.results.mkdir(parents=True, exist_ok=True)
    code = 0
    for name, service, away_s, appendonly in SCENARIOS:
        if args.only and name not in args.only:
            continue
        started = time.monotonic()
        figures = run(name, service, away_s, appendonly, args.results)
        ok = figures["passed"] == figures["runs"] and figures["duplicates"] == 0 and (figures["recovery_max_s"] or 0) < 60
        code = code or (0 if ok else 1)
        print(f"{name}: {figures['passed']}/{figures['runs']} completed, {figures['duplicates']} duplicates, "
              f"last {figures['recovery_max_s']} s after the return ({time.monotonic() - started:.0f} s)", flush=True)
    return code


if __name__ == "__main__":
    sys.exit(main())
