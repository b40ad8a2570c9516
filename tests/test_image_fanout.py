"""The images stage fanned out: one message per segment, spread over the worker's threads, finished once."""

from __future__ import annotations

import threading

import dramatiq
import pytest

from tests.helpers import Flaky, Rejecting, counts
from tests.test_pipeline import drain
from ytmaker import recovery
from ytmaker.db.models import StageRun
from ytmaker.embedded import wait_for
from ytmaker.pipelines import start_generation
from ytmaker.projects import create_project
from ytmaker.providers.instant import InstantImages
from ytmaker.stages import images as image_parts
from ytmaker.stages.images import run as generate_images
from ytmaker.stages.script import run as generate_script

MANY_SEGMENTS = " ".join(f"Fact number {i} is that a bee visits about {i * 7} flowers in one trip." for i in range(1, 37))
DELAY_S = 0.25


class Recording:
    """The instant provider with a remote provider's latency; records which thread made which image."""

    def __init__(self) -> None:
        self.inner = InstantImages(delay_s=DELAY_S)
        self.calls: list[tuple[int, str]] = []
        self._lock = threading.Lock()

    def generate(self, request, out):
        with self._lock:
            self.calls.append((request.index, threading.current_thread().name))
        return self.inner.generate(request, out)


@pytest.fixture
def fanout_rt(rt):
    s = rt.settings
    s.image_fanout, s.speech_provider, s.renderer = "on", "instant", "instant"
    for name in ("speech", "images"):
        rt.providers.__dict__.pop(name, None)
    rt.providers.images = Recording()
    return rt


def _run(rt, project_id: str) -> StageRun:
    with rt.db.session() as session:
        return session.get(StageRun, (project_id, "images"))


def test_images_are_made_in_parallel_across_worker_threads_and_the_stage_finishes_once(fanout_rt, stub_broker, stub_worker):
    rt = fanout_rt
    project = create_project(rt, MANY_SEGMENTS)
    final = wait_for(rt, start_generation(project.id), timeout_s=120)

    assert final.status == "completed", final.error
    images = rt.providers.images
    segments = counts(rt, project.id)["images"]
    assert segments >= 10
    assert sorted(index for index, _ in images.calls) == list(range(segments))  # each made exactly once
    assert len({thread for _, thread in images.calls}) >= 3  # spread over the worker's 4 threads, not a loop
    run = _run(rt, project.id)
    wall = (run.finished_at - run.started_at).total_seconds()
    serial = segments * DELAY_S
    assert wall < 0.6 * serial, f"images took {wall:.2f} s for {segments} images; one after another is {serial:.2f} s"
    assert run.status == "succeeded" and run.attempts == 1


def test_redelivered_parts_and_stage_after_success_change_nothing(fanout_rt, stub_broker, stub_worker):
    rt = fanout_rt
    project = create_project(rt, MANY_SEGMENTS)
    assert wait_for(rt, start_generation(project.id), timeout_s=120).status == "completed"
    calls, before = len(rt.providers.images.calls), counts(rt, project.id)

    for index in range(before["images"]):
        stub_broker.get_actor(image_parts.PART_ACTOR).send(project.id, index)
    stub_broker.get_actor("generate_images").send(project.id)
    drain(stub_broker)

    assert len(rt.providers.images.calls) == calls
    assert counts(rt, project.id) == before
    assert _run(rt, project.id).status == "succeeded"


def test_a_part_failing_transiently_is_retried_without_sending_the_stage_back(fanout_rt, stub_broker, stub_worker):
    rt = fanout_rt
    rt.providers.images = flaky = Flaky(rt.providers.images, failures=2)
    project = create_project(rt, MANY_SEGMENTS)
    final = wait_for(rt, start_generation(project.id), timeout_s=120)

    assert final.status == "completed", final.error
    assert flaky.calls == counts(rt, project.id)["images"] + 2
    run = _run(rt, project.id)
    assert run.status == "succeeded" and run.attempts == 1  # the stage itself ran once; only parts were retried


def test_a_part_failing_permanently_fails_the_project_and_render_is_never_claimed(fanout_rt, stub_broker, stub_worker):
    rt = fanout_rt
    rt.providers.images = Rejecting("image key rejected (HTTP 401)")
    project = create_project(rt, MANY_SEGMENTS)
    final = wait_for(rt, start_generation(project.id), timeout_s=60)

    assert final.status == "failed" and "image key rejected" in final.error and final.failed_stage == "images"
    drain(stub_broker)
    with rt.db.session() as session:
        assert session.get(StageRun, (project.id, "render")) is None


def test_lost_parts_are_sent_again_by_the_redrive_only_for_missing_images(fanout_rt, stub_broker):
    rt = fanout_rt
    project = create_project(rt, MANY_SEGMENTS)
    start_generation(project.id)  # no worker yet: the stages are run by hand up to the fan-out
    generate_script(rt, project.id)
    assert generate_images(rt, project.id) == "running"
    parts = [m for m in _queued(stub_broker, "assets") if m.actor_name == image_parts.PART_ACTOR]
    assert sorted(m.args[1] for m in parts) == list(range(len(parts))) and len(parts) >= 10
    # Two parts ran; the rest, and the other stages' messages, were lost with Redis.
    image_parts.make_part(rt, project.id, 0)
    image_parts.make_part(rt, project.id, 1)
    stub_broker.flush_all()
    assert _run(rt, project.id).status == "running"

    with rt.db.session() as session:  # the parts' heartbeats stopped a lease ago
        run = session.get(StageRun, (project.id, "images"))
        run.heartbeat_at = run.heartbeat_at.replace(year=2000)
    sent = recovery.redrive(rt, older_than_s=0)
    assert (project.id, "images") in sent

    rt.providers.images.calls.clear()
    worker = dramatiq.Worker(stub_broker, worker_threads=4, worker_timeout=50)
    worker.start()
    try:
        final = wait_for(rt, project.id, timeout_s=120)
    finally:
        worker.stop()
    assert final.status == "completed", final.error
    made = sorted(index for index, _ in rt.providers.images.calls)
    assert made == list(range(2, len(parts)))  # only the missing ones, each once
    assert _run(rt, project.id).attempts == 2


def _queued(broker, queue: str):
    from dramatiq import Message

    return [Message.decode(data) for data in list(broker.queues[queue].queue)]
