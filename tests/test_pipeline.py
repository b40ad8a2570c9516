"""The whole pipeline through Dramatiq: stub broker (embedded mode) and real Redis with a real worker."""

from __future__ import annotations

import hashlib
import json
import threading
import time
from datetime import UTC, datetime

import dramatiq
import pytest
from sqlalchemy import select, text

from tests.helpers import SHORT_TEXT, Flaky, Rejecting, attempts, counts, wait_until
from ytmaker.db.models import Asset, Project, Publication, StageRun, Video
from ytmaker.embedded import wait_for
from ytmaker.graph import TABLE, queues
from ytmaker.media.probe import probe
from ytmaker.pipelines import flow, start_generation
from ytmaker.projects import create_project
from ytmaker.stages import runner


def stage_actors(broker) -> dict[str, dramatiq.Actor]:
    """The stage actors declared on ``broker``, by stage, in table order."""
    return {row.name: broker.get_actor(row.actor) for row in TABLE}


def drain(broker) -> None:
    """Wait until no ytmaker queue holds a message (the stub broker's join, without fail-fast)."""
    for _ in range(2):
        for queue in queues():
            broker.join(queue, timeout=60_000, fail_fast=False)


def test_each_stage_is_routed_to_its_queue():
    actors = stage_actors(dramatiq.get_broker())
    assert {name: actor.queue_name for name, actor in actors.items()} == {
        "script": "scripts", "images": "assets", "audio": "assets", "avatars": "assets",
        "render": "render", "thumbnail": "render", "upload": "upload",
    }
    assert [actor.actor_name for actor in actors.values()] == [
        "generate_script", "generate_images", "generate_audio", "generate_avatars",
        "render_video", "generate_thumbnail", "upload_to_youtube",
    ]


def test_embedded_pipeline_completes_with_progress_and_stage_records(rt, stub_broker, stub_worker):
    project = create_project(rt, SHORT_TEXT)
    seen_statuses = []
    final = wait_for(rt, start_generation(project.id), timeout_s=120,
                     on_progress=lambda h: seen_statuses.append(h.get("status")))

    assert final.status == "completed", final.error
    progress = rt.progress.get(project.id)
    assert progress["status"] == "completed" and progress["progress"] == "100"
    assert progress["updated_at"].endswith("+00:00")
    assert {"stage", "stage_progress", "message"} <= set(progress)
    assert "assets_generating" in seen_statuses or "rendering" in seen_statuses
    with rt.db.session() as session:
        runs = {r.stage: r.status for r in session.query(StageRun).filter_by(project_id=project.id)}
    assert runs == {"script": "succeeded", "images": "succeeded", "audio": "succeeded", "avatars": "skipped",
                    "render": "succeeded", "thumbnail": "succeeded", "upload": "succeeded"}


def test_transient_failure_is_retried_then_succeeds(rt, stub_broker, stub_worker):
    rt.providers.speech = flaky = Flaky(rt.providers.speech, failures=2)
    project = create_project(rt, SHORT_TEXT)
    final = wait_for(rt, start_generation(project.id), timeout_s=120)

    assert final.status == "completed", final.error
    assert flaky.calls >= 3
    assert attempts(rt, project.id)["audio"] == 3
    assert stub_broker.dead_letters == []


def test_transient_failures_beyond_the_budget_fail_the_project_with_the_reason(rt, stub_broker, stub_worker):
    rt.providers.speech = Flaky(rt.providers.speech, failures=100)
    project = create_project(rt, SHORT_TEXT)
    final = wait_for(rt, start_generation(project.id), timeout_s=120)

    assert final.status == "failed"
    assert final.failed_stage == "audio"
    assert "HTTP 503" in final.error and "gave up after 4 attempts" in final.error
    assert attempts(rt, project.id)["audio"] == 4  # the first try and 3 retries
    assert [m.actor_name for m in stub_broker.dead_letters] == ["generate_audio"]


def test_permanent_failure_is_not_retried_and_render_is_never_enqueued(rt, stub_broker, stub_worker):
    rt.providers.images = rejecting = Rejecting("image API key rejected (HTTP 401); set YTMAKER_STABILITY_API_KEY")
    project = create_project(rt, SHORT_TEXT)
    final = wait_for(rt, start_generation(project.id), timeout_s=60)
    drain(stub_broker)

    assert final.status == "failed" and final.failed_stage == "images"
    assert "API key rejected" in final.error
    assert rejecting.calls == 1
    with rt.db.session() as session:
        stages = {r.stage: r.status for r in session.query(StageRun).filter_by(project_id=project.id)}
        assert session.get(Video, project.id) is None
    assert "render" not in stages
    assert stages["images"] == "failed"
    progress = rt.progress.get(project.id)
    assert progress["status"] == "failed" and "API key rejected" in progress["error"]


def test_retry_resumes_at_the_failed_stage_and_keeps_finished_ones(rt, stub_broker, stub_worker):
    from ytmaker.pipelines import retry_project

    real_images = rt.providers.images
    project = create_project(rt, SHORT_TEXT)

    def audio_done() -> bool:
        with rt.db.session() as session:
            run = session.get(StageRun, (project.id, "audio"))
            return run is not None and run.status == "succeeded"

    class RejectingOnceAudioIsDone(Rejecting):
        """Refuses the images only after the narration finished: audio is the finished stage the retry must keep.

        Every method waits (the images stage calls ``footage`` when a provider has one, and ``Rejecting`` has all
        of them): only ``generate`` did, so the images failed at once through ``footage`` and, when they beat the
        audio, the failure left the narration unmade."""

        def __getattr__(self, name):
            refuse = super().__getattr__(name)

            def call(*args, **kwargs):
                wait_until(audio_done, timeout_s=60, what="the audio stage to finish")
                return refuse(*args, **kwargs)

            return call

    rt.providers.images = RejectingOnceAudioIsDone()
    assert wait_for(rt, start_generation(project.id), timeout_s=60).status == "failed"
    drain(stub_broker)
    before = attempts(rt, project.id)

    rt.providers.images = real_images
    retry_project(rt, project.id)
    final = wait_for(rt, project.id, timeout_s=120)

    assert final.status == "completed", final.error
    after = attempts(rt, project.id)
    assert after["script"] == before["script"] == 1
    assert after["audio"] == before["audio"] == 1
    assert after["images"] == 2


def test_every_duplicated_message_has_the_same_outcome_as_one(rt, stub_broker, stub_worker):
    project = create_project(rt, SHORT_TEXT)
    # Duplicate the first message too: two script messages race from the start.
    stage_actors(stub_broker)["script"].send(project.id)
    assert wait_for(rt, start_generation(project.id), timeout_s=120).status == "completed"
    drain(stub_broker)
    before, tries = counts(rt, project.id), attempts(rt, project.id)

    for actor in stage_actors(stub_broker).values():
        actor.send(project.id)
        actor.send(project.id)
    drain(stub_broker)

    assert counts(rt, project.id) == before
    assert before["publications"] == 1 and before["videos"] == 1
    assert attempts(rt, project.id) == tries
    assert len(list((rt.data_dir / "published").iterdir())) == 1
    assert stub_broker.dead_letters == []


def test_render_is_enqueued_exactly_once_when_asset_stages_repeat(rt, stub_broker):
    """Fan-in without a worker: count the render messages that the asset stages send."""
    from ytmaker import stages

    project = create_project(rt, SHORT_TEXT)
    stages.stage_function("script")(rt, project.id)
    for _ in range(2):
        stages.stage_function("images")(rt, project.id)
        stages.stage_function("audio")(rt, project.id)
        stages.stage_function("avatars")(rt, project.id)
    queued = [dramatiq.Message.decode(raw) for raw in stub_broker.queues["render"].queue]
    render_messages = [m for m in queued if m.actor_name == "render_video"]
    assert len(render_messages) == 1


@pytest.mark.redis
def test_pipeline_on_real_redis_with_a_real_worker(redis_rt, redis_broker, redis_worker, redis_client):
    rt = redis_rt
    project = create_project(rt, SHORT_TEXT)
    channel = rt.progress.subscribe(project.id)
    final = wait_for(rt, start_generation(project.id), timeout_s=180)

    assert final.status == "completed", final.error
    with rt.db.session() as session:
        video = session.get(Video, project.id)
        narration = sum(a.duration_ms for a in session.query(Asset).filter_by(project_id=project.id, kind="audio")) / 1000
        segments = session.query(Asset).filter_by(project_id=project.id, kind="audio").count()
    info = probe(rt.path(video.path))
    assert info.streams == ["video", "audio"]
    expected = narration + 0.4 * (segments - 1) + 0.8
    assert abs(info.duration_s - expected) < 0.5
    # Progress lives in real Redis, readable by any service, and was published live.
    stored = {k.decode(): v.decode() for k, v in redis_client.hgetall(f"ytmaker:progress:{project.id}").items()}
    assert stored["status"] == "completed" and stored["progress"] == "100"
    published = []
    deadline = time.monotonic() + 5
    while time.monotonic() < deadline and not any(s.get("status") == "completed" for s in published):
        snapshot = channel.get(timeout_s=0.1)
        if snapshot:
            published.append(snapshot)
    channel.close()
    # subscribe() returns once Redis confirmed it, before the project started: every change was published.
    assert published and published[-1]["status"] == "completed" and published[-1]["progress"] == "100"
    # The video was published once, to the folder its publication row names, as it was rendered.
    with rt.db.session() as session:
        publication = session.query(Publication).filter_by(project_id=project.id).one()
    folder = rt.data_dir / "published" / publication.remote_id
    assert (publication.target, publication.status) == ("folder", "published")
    assert publication.url == folder.resolve().as_uri() and publication.published_at is not None
    assert [p.name for p in (rt.data_dir / "published").iterdir()] == [folder.name]
    assert sorted(p.name for p in folder.iterdir()) == ["metadata.json", "thumbnail.jpg", "video.mp4"]
    assert hashlib.sha256((folder / "video.mp4").read_bytes()).hexdigest() == video.checksum
    assert json.loads((folder / "metadata.json").read_text())["project_id"] == project.id
    assert isinstance(dramatiq.get_broker(), type(redis_broker))


@pytest.mark.redis
def test_failing_asset_stage_on_redis_fails_the_project_at_once(redis_rt, redis_broker, redis_worker):
    rt = redis_rt
    rt.providers.speech = Rejecting("speech key rejected (HTTP 403)")
    started = time.monotonic()
    project = create_project(rt, SHORT_TEXT, start=True)  # as the API starts it: the worker takes its first message
    final = wait_for(rt, project.id, timeout_s=60)

    assert final.status == "failed" and "speech key rejected" in final.error
    assert time.monotonic() - started < 20
    with rt.db.session() as session:
        assert session.get(StageRun, (project.id, "render")) is None
        assert session.get(Project, project.id).failed_stage == "audio"


def test_a_stage_past_its_time_limit_is_stopped_and_fails_with_the_reason(tmp_path, stub_broker, stub_worker):
    import fakeredis

    from tests.conftest import fast_settings
    from ytmaker.db.migrate import upgrade
    from ytmaker.runtime import build_runtime, set_runtime

    rt = build_runtime(fast_settings(tmp_path, script_time_limit_ms=300, script_max_retries=1), redis=fakeredis.FakeRedis())
    upgrade(rt.db)
    set_runtime(rt)

    class Hanging:
        calls = 0

        def write(self, request, report):
            Hanging.calls += 1
            while True:  # a provider call that never returns
                time.sleep(0.05)

    rt.providers.script_writer = Hanging()
    project = create_project(rt, SHORT_TEXT)
    started = time.monotonic()
    final = wait_for(rt, start_generation(project.id), timeout_s=30)

    assert final.status == "failed" and final.failed_stage == "script"
    assert "time limit" in final.error and "gave up after 2 attempts" in final.error
    assert Hanging.calls == 2
    assert time.monotonic() - started < 10
    set_runtime(None)
    rt.close()


def _waiting_on_locks(rt) -> int:
    with rt.db.engine.connect() as connection:
        return connection.execute(text("SELECT count(*) FROM pg_stat_activity WHERE wait_event_type = 'Lock' "
                                       "AND pid <> pg_backend_pid()")).scalar_one()


@pytest.mark.parametrize("database_url", ["postgres"], indirect=True)  # SQLite has one writer: no row locks to order
def test_a_stage_opened_during_a_hand_over_waits_for_it_instead_of_deadlocking(rt):
    # A duplicated message opening a stage that has no run row yet inserted one before taking the project's row; a
    # hand-over holding that row and inserting the same run deadlocked with it (PostgreSQL failed one of the two).
    project = create_project(rt, SHORT_TEXT)
    opened: list = []
    with rt.db.session() as session:  # the hand-over's transaction (flow._advance), held open
        db = session.connection()
        db.execute(select(Project.status).where(Project.id == project.id).with_for_update())
        thread = threading.Thread(target=lambda: opened.append(runner._open(rt, project.id, "script")))
        thread.start()
        wait_until(lambda: _waiting_on_locks(rt), 30, "the stage's transaction to wait on a lock")
        assert flow.insert_run(rt, db, project.id, "script", datetime.now(UTC))  # raised DeadlockDetected before
    thread.join(30)
    assert len(opened) == 1 and opened[0].leased  # it went on after the hand-over, on the row the hand-over made
    with rt.db.session() as session:
        assert session.scalars(select(StageRun.status).where(StageRun.project_id == project.id)).all() == ["running"]
