"""Workers killed mid-stage (SIGKILL), between a hand-off and its ack, and stopped (SIGTERM) mid-render."""

from __future__ import annotations

import os
import signal
import time
from datetime import UTC, datetime

import pytest
from sqlalchemy import select

from tests.chaos.conftest import QUICK_RECOVERY, record
from tests.helpers import SHORT_TEXT, attempts
from ytmaker.db.models import Video
from ytmaker.media.probe import probe
from ytmaker.pipelines import start_generation
from ytmaker.projects import create_project

pytestmark = [pytest.mark.slow, pytest.mark.redis, pytest.mark.postgres]

TEXT = SHORT_TEXT + " Scouts compare dances before the swarm moves. The best site wins the vote."
HELD_OPEN = dict(CHAOS_DELAY_SCRIPT_MS="3000", CHAOS_DELAY_IMAGES_MS="1500", CHAOS_DELAY_UPLOAD_MS="3000",
                 CHAOS_FFMPEG="slow", CHAOS_FFMPEG_RATE="0.25")


def new_project(chaos) -> str:
    project = create_project(chaos.rt, TEXT)
    start_generation(project.id, chaos.rt)
    return project.id


def test_sigkill_during_every_stage_then_a_new_fleet_completes_every_project_within_30_s(chaos):
    # given: the Procfile's four workers, with each stage held open long enough to be caught running,
    # and the default recovery settings (lease 15 s, recovery pass every 5 s, worker heartbeat timeout 15 s)
    chaos.configure(env=HELD_OPEN)
    fleet = chaos.start_procfile()
    ids: list[str] = []
    wanted = {"script", "images", "render", "upload"}
    deadline, last = time.monotonic() + 120, 0.0
    while not (wanted <= chaos.running() and chaos.ffmpeg_running()):
        assert time.monotonic() < deadline, f"never had every stage running at once: {chaos.running()}"
        # a project every 1.5 s until the four stages overlap: under load the first ones' scripts all finish before
        # a render and an upload line up with them, and a fixed number of projects (14) then never overlapped
        if len(ids) < 60 and time.monotonic() - last > 1.5:
            ids.append(new_project(chaos))
            last = time.monotonic()
        time.sleep(0.05)

    # when: every worker is SIGKILLed while a script, an image, a render (FFmpeg running) and an upload are in flight
    for worker in fleet:
        chaos.kill(worker)
    orphans = chaos.orphans(after_s=3)
    chaos.extra_env.clear()  # the new fleet is not slowed down: what is measured is the recovery
    chaos.start_procfile()
    ready = datetime.now(UTC)
    final = chaos.wait_all(ids, timeout_s=120)

    # then: every project completes, once, within 30 s of the new workers being available
    audit = chaos.audit(ids)
    recovery = chaos.completed_after(ids, ready)
    record("sigkill-each-stage", runs=len(ids), passed=sum(p.status == "completed" for p in final.values()),
           lost=audit["lost"], duplicates=audit["duplicates"], orphans=orphans, recovery_s=recovery,
           notes="4 Procfile workers SIGKILLed with script, images, render (FFmpeg) and upload running; default "
                 "lease 15 s / pass 5 s; time from the new workers' boot to each project's completion")
    assert audit["lost"] == 0 and audit["duplicates"] == 0, audit["problems"]
    assert audit["leftovers"] == []
    assert orphans == 0, "an FFmpeg outlived its killed worker"
    assert max(recovery) < 30, f"slowest project completed {max(recovery):.1f} s after the new workers booted"


def test_sigkill_between_the_hand_off_and_the_ack_has_one_outcome(chaos):
    # given: a script worker that dies right after sending the first follow-up of the script stage, before its ack
    chaos.configure(env=dict(CHAOS_KILL_AFTER_SEND="script"), **QUICK_RECOVERY)
    scripts = chaos.start("scripts", ["scripts"])
    chaos.start("rest", ["assets", "render", "upload"])
    project_id = new_project(chaos)
    chaos.wait_until(lambda: scripts.process.poll() is not None, 60, "the script worker to kill itself")

    # when: a new script worker starts (the script message comes back to it, or the recovery pass re-sends)
    ready = datetime.now(UTC)
    chaos.start("scripts", ["scripts"])
    final = chaos.wait_all([project_id], timeout_s=90)

    # then: one outcome: each stage ran once, one video, one publication
    audit = chaos.audit([project_id])
    runs = attempts(chaos.rt, project_id)
    record("sigkill-between-enqueue-and-ack", runs=1, passed=int(final[project_id].status == "completed"),
           lost=audit["lost"], duplicates=audit["duplicates"] + sum(n - 1 for n in runs.values() if n > 1),
           orphans=chaos.orphans(), recovery_s=chaos.completed_after([project_id], ready),
           notes="worker SIGKILLs itself after sending the first asset stage, before acking the script message")
    assert audit["lost"] == 0 and audit["duplicates"] == 0, audit["problems"]
    assert runs["script"] == 1 and all(n == 1 for stage, n in runs.items() if stage != "avatars"), runs


def test_sigterm_during_render_requeues_or_finishes_and_never_leaves_a_half_video(chaos):
    # given: a render worker with a slow FFmpeg running
    chaos.configure(env=dict(CHAOS_FFMPEG="slow", CHAOS_FFMPEG_RATE="0.25"), **QUICK_RECOVERY)
    chaos.start("rest", ["scripts", "assets", "upload"])
    render = chaos.start("render", ["render"], threads=1)
    project_id = new_project(chaos)
    chaos.wait_until(chaos.ffmpeg_running, 60, "FFmpeg to run")

    # when: the render worker is asked to stop (SIGTERM), as a deploy does
    stopped = datetime.now(UTC)
    os.kill(render.process.pid, signal.SIGTERM)  # to the master, as a supervisor should (not the whole group)
    render.process.wait(30)
    half = list(chaos.rt.project_dir(project_id).glob("*.mp4")) + list(chaos.rt.project_dir(project_id).glob(".*.tmp*"))
    with chaos.rt.db.session() as session:
        video_row = session.get(Video, project_id)
    orphans = chaos.orphans(after_s=3)
    chaos.extra_env.clear()
    chaos.start("render", ["render"], threads=1)
    final = chaos.wait_all([project_id], timeout_s=90)

    # then: no video file or record appeared from the stopped render; the message was requeued and finished
    audit = chaos.audit([project_id])
    record("sigterm-during-render", runs=1, passed=int(final[project_id].status == "completed"), lost=audit["lost"],
           duplicates=audit["duplicates"], orphans=orphans, recovery_s=chaos.completed_after([project_id], stopped),
           notes="SIGTERM with FFmpeg running; Dramatiq's shutdown notice stops the stage, the retry re-renders")
    assert half == [] and video_row is None, "a half video (or its temporary file) was left or recorded"
    assert orphans == 0
    assert audit["lost"] == 0 and audit["duplicates"] == 0 and audit["leftovers"] == [], audit
    with chaos.rt.db.session() as session:
        video = session.scalars(select(Video).where(Video.project_id == project_id)).one()
    info = probe(chaos.rt.path(video.path))
    assert info.duration_s > 1 and info.video_codec == "h264"
    assert attempts(chaos.rt, project_id)["render"] == 2
