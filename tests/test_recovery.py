"""The periodic re-drive: lost follow-ups, silent workers, stages stuck past their limit."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

import dramatiq
from sqlalchemy import update

from tests.helpers import SHORT_TEXT
from ytmaker import recovery, stages
from ytmaker.db.models import StageRun
from ytmaker.embedded import wait_for
from ytmaker.periodic import recover_stalled
from ytmaker.pipelines import flow
from ytmaker.projects import create_project, load_project
from ytmaker.recovery import LOCK_KEY


def queued_messages(broker, queue):
    return [dramatiq.Message.decode(raw) for raw in broker.queues[queue].queue]


def set_run(rt, project_id, stage, **values):
    with rt.db.session() as session:
        session.execute(update(StageRun).where(StageRun.project_id == project_id, StageRun.stage == stage).values(**values))


def test_a_follow_up_that_was_never_sent_is_re_sent_from_the_records(rt, stub_broker):
    project = create_project(rt, SHORT_TEXT)
    stages.stage_function("script")(rt, project.id)
    stub_broker.flush_all()  # the three asset messages are lost (#545)

    assert recovery.redrive(rt, older_than_s=60) == []  # not stale yet: nothing is sent twice
    old = datetime.now(UTC) - timedelta(seconds=120)
    for stage in ("images", "audio", "avatars"):
        set_run(rt, project.id, stage, queued_at=old)
    sent = recovery.redrive(rt, older_than_s=60)

    assert sorted(sent) == sorted((project.id, s) for s in ("images", "audio", "avatars"))
    assert sorted(m.actor_name for m in queued_messages(stub_broker, "assets")) == [
        "generate_audio", "generate_avatars", "generate_images"]


def test_a_stage_whose_worker_went_silent_is_taken_over_and_the_project_completes(rt, stub_broker, stub_worker):
    project = create_project(rt, SHORT_TEXT)
    flow.claim(rt, project.id, "script")
    silent = datetime.now(UTC) - timedelta(seconds=rt.settings.stage_lease_s + 5)
    set_run(rt, project.id, "script", status="running", started_at=silent, heartbeat_at=silent, attempts=1)

    sent = recovery.redrive(rt, older_than_s=60)
    final = wait_for(rt, project.id, timeout_s=120)

    assert sent == [(project.id, "script")]
    assert final.status == "completed", final.error


def test_a_stage_running_past_its_time_limit_fails_the_project(rt, stub_broker):
    project = create_project(rt, SHORT_TEXT)
    flow.claim(rt, project.id, "script")
    long_ago = datetime.now(UTC) - timedelta(hours=2)
    set_run(rt, project.id, "script", status="running", started_at=long_ago, heartbeat_at=datetime.now(UTC))

    recovery.redrive(rt, older_than_s=60)

    final = load_project(rt, project.id)
    assert final.status == "failed" and final.failed_stage == "script"
    assert "past its time limit" in final.error


def test_the_periodic_job_runs_once_per_tick_under_two_schedulers(rt, stub_broker):
    project = create_project(rt, SHORT_TEXT)
    flow.claim(rt, project.id, "script")
    set_run(rt, project.id, "script", queued_at=datetime.now(UTC) - timedelta(hours=1))

    recover_stalled()
    recover_stalled()  # the second scheduler's tick: the lock is held

    assert [m.actor_name for m in queued_messages(stub_broker, "scripts")] == ["generate_script"]
    assert rt.keys.exists(LOCK_KEY)  # held for the interval
