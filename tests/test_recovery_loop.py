"""The fast recovery path: orphaned messages come back, busy workers keep theirs, workers re-drive by themselves,
lost follow-ups are re-sent, and a killed worker's temporary files are swept."""

from __future__ import annotations

import os
import time
from datetime import UTC, datetime, timedelta

import dramatiq
import pytest
from dramatiq.brokers.redis import RedisBroker
from sqlalchemy import update

from tests.conftest import REDIS_URL
from tests.helpers import SHORT_TEXT, attempts
from ytmaker import stages
from ytmaker.db.models import StageRun
from ytmaker.embedded import wait_for
from ytmaker.pipelines import flow
from ytmaker.projects import create_project
from ytmaker.recovery import recover_once, requeue_orphaned, stamp_presence
from ytmaker.stages.common import sweep_temp, temp_path


@pytest.fixture
def two_brokers(redis_client):
    """A worker's broker that fetched a message and goes silent, and a survivor's broker."""
    redis_client.flushdb()
    brokers = [RedisBroker(url=REDIS_URL, heartbeat_timeout=500, maintenance_chance=0) for _ in range(2)]
    for broker in brokers:
        broker.declare_queue("chaos")
    yield brokers
    brokers[0].flush_all()
    for broker in brokers:
        broker.close()
    redis_client.flushdb()


def fetch_without_ack(broker):
    broker.enqueue(dramatiq.Message(queue_name="chaos", actor_name="a", args=(), kwargs={}, options={}))
    consumer = broker.consume("chaos", prefetch=1, timeout=100)
    message = next(m for m in consumer if m is not None)
    return consumer, message


@pytest.mark.redis
def test_the_unacked_messages_of_a_dead_worker_are_requeued_at_the_next_pass(two_brokers):
    dead, survivor = two_brokers
    fetch_without_ack(dead)
    assert survivor.client.llen("dramatiq:chaos") == 0

    time.sleep(0.7)  # past the 500 ms heartbeat timeout
    requeue_orphaned(survivor)

    assert survivor.client.llen("dramatiq:chaos") == 1


@pytest.mark.redis
def test_a_busy_worker_that_stamps_its_presence_keeps_its_messages(two_brokers):
    busy, survivor = two_brokers
    fetch_without_ack(busy)
    for _ in range(4):  # 0.8 s of work with a full prefetch window: no broker command, only the stamp
        time.sleep(0.2)
        stamp_presence(busy)

    requeue_orphaned(survivor)

    assert survivor.client.llen("dramatiq:chaos") == 0


@pytest.mark.redis
def test_a_worker_takes_over_a_silent_stage_by_itself_within_the_interval(redis_rt, redis_broker):
    rt = redis_rt
    rt.settings.recovery_interval_s = 0.5
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
        while attempts(rt, project.id).get("script", 1) < 2 and time.monotonic() - booted < 10:
            time.sleep(0.05)
        taken_over_after = time.monotonic() - booted
        final = wait_for(rt, project.id, timeout_s=120)
    finally:
        worker.stop()

    assert taken_over_after < 3, "nobody called redrive: the worker's own loop must have"
    assert final.status == "completed", final.error


@pytest.mark.redis
def test_one_pass_per_interval_across_processes(redis_rt):
    assert recover_once(redis_rt, lock_ms=1000) == []
    assert recover_once(redis_rt, lock_ms=1000) is None  # another process's tick within the interval
    time.sleep(1.1)
    assert recover_once(redis_rt, lock_ms=1000) == []


def test_a_redelivered_finished_stage_re_sends_the_follow_ups_its_dead_worker_never_sent(rt, stub_broker):
    project = create_project(rt, SHORT_TEXT)
    stages.generate_script(rt, project.id)
    stub_broker.flush_all()  # the worker died after claiming the follow-ups, before their messages left

    stages.generate_script(rt, project.id)  # an ordinary duplicate, at once: nothing is sent twice
    assert stub_broker.queues["assets"].qsize() == 0
    with rt.db.session() as session:  # the dead worker's message comes back a heartbeat timeout later
        session.execute(update(StageRun).where(StageRun.project_id == project.id)
                        .values(queued_at=datetime.now(UTC) - timedelta(seconds=rt.settings.worker_heartbeat_timeout_s)))
    stages.generate_script(rt, project.id)

    sent = sorted(dramatiq.Message.decode(raw).actor_name for raw in stub_broker.queues["assets"].queue)
    assert sent == ["generate_audio", "generate_avatars", "generate_images"]
    assert flow.load_project(rt, project.id).status == "script_generating"


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
