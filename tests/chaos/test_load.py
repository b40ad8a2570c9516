"""Many projects at once with instant providers: all complete, and worker memory stays flat."""

from __future__ import annotations

import os
import time
from datetime import UTC, datetime
from pathlib import Path

import pytest

from tests.chaos.conftest import record
from tests.helpers import SHORT_TEXT
from ytmaker.pipelines import start_generation
from ytmaker.projects import create_project

pytestmark = [pytest.mark.slow, pytest.mark.redis, pytest.mark.postgres]

PROJECTS = int(os.environ.get("CHAOS_LOAD_PROJECTS", "25"))  # the issue asks 300: `--projects 300` in the report run


def rss_mb(pid: int) -> float:
    try:
        for line in Path(f"/proc/{pid}/status").read_text().splitlines():
            if line.startswith("VmRSS:"):
                return int(line.split()[1]) / 1024
    except OSError:
        pass
    return 0.0


def worker_rss(fleet) -> dict[int, float]:
    """RSS of every worker process (not the dramatiq masters, which only supervise)."""
    return {pid: rss_mb(pid) for worker in fleet for pid in worker.pids() if pid != worker.process.pid}


@pytest.mark.timeout(1200)
def test_hundreds_of_projects_at_once_all_complete_with_flat_worker_memory(chaos):
    # given: the Procfile's workers, instant providers, tiny renders
    fleet = chaos.start_procfile(threads=8)
    warm_ids = [create_project(chaos.rt, SHORT_TEXT).id for _ in range(3)]
    for project_id in warm_ids:
        start_generation(project_id, chaos.rt)
    chaos.wait_all(warm_ids, timeout_s=120)
    before = worker_rss(fleet)

    # when: all projects are submitted at once
    started = datetime.now(UTC)
    clock = time.monotonic()
    ids = [create_project(chaos.rt, SHORT_TEXT).id for _ in range(PROJECTS)]
    for project_id in ids:
        start_generation(project_id, chaos.rt)
    final = chaos.wait_all(ids, timeout_s=1000)
    elapsed = time.monotonic() - clock
    after = worker_rss(fleet)

    # then: every one completes once, and no worker process grew by 50 MB or more
    audit = chaos.audit(ids)
    growth = {pid: after.get(pid, 0) - rss for pid, rss in before.items()}
    worst = max(growth.values())
    record("load-many-projects", runs=len(ids), passed=sum(p.status == "completed" for p in final.values()),
           lost=audit["lost"], duplicates=audit["duplicates"], orphans=chaos.orphans(),
           recovery_s=chaos.completed_after(ids, started),
           notes=f"{PROJECTS} projects submitted at once to the 4 Procfile workers (instant providers, tiny renders); "
                 f"all done in {elapsed:.0f} s ({PROJECTS / elapsed:.2f} projects/s); worker RSS growth "
                 + ", ".join(f"{g:+.1f} MB" for g in sorted(growth.values()))
                 + "; recovery column: start to each completion")
    assert audit["lost"] == 0 and audit["duplicates"] == 0, audit["problems"][:10]
    assert set(after) == set(before), "a worker process died or was replaced during the run"
    assert worst < 50, f"a worker grew by {worst:.1f} MB"
