"""The fast recovery path: workers re-drive by themselves, once per interval fleet-wide, lost follow-ups are
re-sent, and a killed worker's temporary files are swept. (Requeueing a dead worker's messages and the presence
stamp: tests/test_dramatiq_contract.py.)"""

from __future__ import annotations

import os
import time
from datetime import UTC, datetime, timedelta

import dramatiq
import pytest
from sqlalchemy import update

from tests.helpers import SHORT_TEXT, attempts, wait_until
from ytmaker import stages
from ytmaker.db.models import StageRun
from ytmaker.embedded import wait_for
from ytmaker.projects import create_project, load_project
from ytmaker.recovery import LOCK_KEY, recover_once
from ytmaker.stages.files import sweep_temp, temp_path


@pytest.mark.redis
def test_a_worker_takes_over_a_silent_stage_by_itself_within_the_interval(redis_rt, redis_broker):
    rt = redis_rt
    rt.settings.recovery_interval_s = 60  # longer than the wait below: only the pass at boot can take it over
    rt.settings.image_provider, rt.settings.speech_provider, rt.settings.render_quality = "instant", "instant", "tiny"
    project = create_project(rt, SHORT_TEXT)
    with rt.db.session() as session:  # the worker running the script was killed a lease ago
        session.add(StageRun(project_id=project.id, stage="script", status="running", attempts=1,
                             started_at=datetime.now(UTC) - timedelta(minutes=5),
                             heartbeat_at=datetime.now(UTC) - timedelta(seconds=rt.settings.stage_lease_s + 1)))
    worker = dramatiq.Worker(redis_broker, worker_threads=4, worker_timeout=50)
    booted = time.monotonic()
    worker.start()
    try:
        # Nothing else runs the recovery pass here (no periodiq, no test call): only the worker's own ticker can.
        wait_until(lambda: attempts(rt, project.id).get("script", 1) >= 2, timeout_s=30, what="the script taken over")
        taken_over_after = time.monotonic() - booted
        final = wait_for(rt, project.id, timeout_s=120)
    finally:
        worker.stop()

    assert taken_over_after < 30, "the first pass runs right at boot, not an interval later"
    assert final.status == "completed", final.error


@pytest.mark.redis
def test_one_pass_per_interval_across_processes(redis_rt):
    assert recover_once(redis_rt, lock_ms=1000) == []
    assert recover_once(redis_rt, lock_ms=1000) is None  # another process's tick within the interval
    assert 0 < redis_rt.redis.pttl(LOCK_KEY) <= 1000
    wait_until(lambda: not redis_rt.keys.exists(LOCK_KEY), timeout_s=5, what="the lock to lapse")  # the interval is over
    assert recover_once(redis_rt, lock_ms=1000) == []


def test_a_redelivered_finished_stage_re_sends_the_follow_ups_its_dead_worker_never_sent(rt, stub_broker):
    project = create_project(rt, SHORT_TEXT)
    stages.stage_function("script")(rt, project.id)
    stub_broker.flush_all()  # the worker died after claiming the follow-ups, before their messages left

    stages.stage_function("script")(rt, project.id)  # an ordinary duplicate, at once: nothing is sent twice
    assert stub_broker.queues["assets"].qsize() == 0
    with rt.db.session() as session:  # the dead worker's message comes back a heartbeat timeout later
        session.execute(update(StageRun).where(StageRun.project_id == project.id)
                        .values(queued_at=datetime.now(UTC) - timedelta(seconds=rt.settings.worker_heartbeat_timeout_s)))
    stages.stage_function("script")(rt, project.id)

    sent = sorted(dramatiq.Message.decode(raw).actor_name for raw in stub_broker.queues["assets"].queue)
    assert sent == ["generate_audio", "generate_avatars", "generate_images"]
    assert load_project(rt, project.id).status == "script_generating"


def test_temporary_files_of_a_dead_process_are_swept_by_the_next_attempt(tmp_path):
    final = tmp_path / "video.mp4"
    dead = 2 ** 22 + 12345  # above the kernel's pid_max default: no such process
    left = [tmp_path / f".video.{dead}.1.tmp.mp4", tmp_path / f"..video.{dead}.1.tmp.mp4.ffconcat"]
    ours = tmp_path / f".video.{os.getpid()}.2.tmp.mp4"
    other = tmp_path / f".image.{dead}.3.tmp.mp4"
    for path in [*left, ours, other]:
        path.write_bytes(b"partial")
    helpers = tmp_path / f"..video.{dead}.1.tmp.mp4.render"  # a killed render's helper folder
    helpers.mkdir()
    (helpers / "mix.wav").write_bytes(b"partial")

    fresh = temp_path(final)

    assert sorted(p.name for p in tmp_path.iterdir()) == sorted([ours.name, other.name])
    assert fresh.name.startswith(f".video.{os.getpid()}.") and not fresh.exists()
    assert sweep_temp(final) == []
