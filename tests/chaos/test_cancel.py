"""Cancel against real workers: running stages stop at once, FFmpeg included; `ytmaker retry` resumes there."""

from __future__ import annotations

import subprocess
import sys
import time
from datetime import UTC, datetime

import pytest
from sqlalchemy import select

from tests.chaos.conftest import QUICK_RECOVERY, record
from tests.helpers import TWO_SEGMENT_TEXT, attempts
from ytmaker.db.models import Project, StageRun
from ytmaker.deadletters import list_dead
from ytmaker.pipelines import start_generation
from ytmaker.pipelines.control import cancel_project
from ytmaker.projects import create_project

pytestmark = [pytest.mark.slow, pytest.mark.redis, pytest.mark.postgres]


def ytmaker(chaos, *args: str) -> subprocess.CompletedProcess:
    return subprocess.run([sys.executable, "-m", "ytmaker", *args], env=chaos.env(), capture_output=True, text=True,
                          timeout=120)


def stage_statuses(chaos, project_id: str) -> dict[str, str]:
    with chaos.rt.db.session() as session:
        return {r.stage: r.status for r in session.scalars(select(StageRun).where(StageRun.project_id == project_id))}


@pytest.mark.parametrize("during", ["render", "images"])
def test_cancel_stops_the_running_stage_at_once_and_retry_resumes_there(chaos, during):
    # given: a project whose render (a slow FFmpeg) or images stage (slow calls) is running in a worker
    held = dict(CHAOS_FFMPEG="slow", CHAOS_FFMPEG_RATE="0.05") if during == "render" else dict(CHAOS_DELAY_IMAGES_MS="3000")
    chaos.configure(env=held, **QUICK_RECOVERY)
    chaos.start("all", threads=4)
    project = create_project(chaos.rt, TWO_SEGMENT_TEXT)
    start_generation(project.id, chaos.rt)
    if during == "render":
        chaos.wait_until(chaos.ffmpeg_running, 60, "FFmpeg to run")
    else:
        # inside the first 3 s image call: an asset stage stops at the end of the call it is in
        chaos.wait_until(lambda: chaos.calls_started("images") >= 1, 60, "the first image call")

    # when: the project is cancelled (what `ytmaker cancel` calls; the command's start-up would blur the timing)
    asked = time.monotonic()
    assert cancel_project(chaos.rt, project.id)
    worker = chaos.workers[-1]
    chaos.wait_until(lambda: not chaos.ffmpeg_running() and "Cancelled: the project was cancelled" in worker.log.read_text(),
                     10, "the worker to stop the running stage")
    stopped_after = time.monotonic() - asked
    # whatever of the project was still queued or delayed has run now (and found it cancelled)
    chaos.wait_until(lambda: not chaos.pending_messages(project.id), 30, "the project's messages to be consumed")

    # then: it stopped within a couple of seconds, left no temporary file and no dead letter
    statuses = stage_statuses(chaos, project.id)
    leftovers = list(chaos.rt.project_dir(project.id).rglob(".*.tmp*"))
    with chaos.rt.db.session() as session:
        assert session.get(Project, project.id).status == "cancelled"
    assert statuses[during] == "cancelled", statuses
    assert leftovers == [] and chaos.orphans() == 0
    assert list_dead(chaos.rt.redis) == []
    bound = 3 if during == "render" else 5  # FFmpeg is polled twice a second; an image call in flight ends first
    assert stopped_after < bound, f"the {during} stage ran on for {stopped_after:.1f} s after the cancel"

    # when: the user retries; then: it resumes at the cancelled stage and keeps what was finished
    chaos.extra_env.clear()
    chaos.stop_all()
    resumed_at = datetime.now(UTC)
    chaos.start("all", threads=4)
    result = ytmaker(chaos, "retry", project.id)
    assert result.returncode == 0, result.stderr
    final = chaos.wait_all([project.id], timeout_s=90)[project.id]
    audit = chaos.audit([project.id])
    record(f"cancel-during-{during}", runs=1, passed=int(final.status == "completed"), lost=audit["lost"],
           duplicates=audit["duplicates"], orphans=chaos.orphans(), recovery_s=[stopped_after],
           notes=f"cancel_project (what `ytmaker cancel` runs) while {during} ran; "
                 "recovery column: seconds until the worker stopped the stage; "
                 f"retry completed {chaos.completed_after([project.id], resumed_at)[0]:.1f} s after the new worker")
    assert final.status == "completed", final.error
    assert audit["lost"] == 0 and audit["duplicates"] == 0 and audit["leftovers"] == []
    runs = attempts(chaos.rt, project.id)
    assert runs["script"] == 1 and runs[during] == 2, runs
