"""Messages that come early, twice or late, whoever sent them, change nothing: the project completes once.

A stage whose predecessors are not all done drops its message (the hand-over
sends it when it is ready); a stage re-opened by ``retry`` drops the messages
of its earlier attempts (they carry the project's generation of their time).
"""

from __future__ import annotations

import random
import threading

import dramatiq
import pytest
from sqlalchemy import select
from structlog.testing import capture_logs

from tests.chaos.conftest import record
from tests.conftest import fast_settings
from tests.helpers import SHORT_TEXT, TWO_SEGMENT_TEXT, attempts, counts
from ytmaker import stages
from ytmaker.db.models import Project, StageRun
from ytmaker.embedded import wait_for
from ytmaker.graph import STAGES, TABLE
from ytmaker.pipelines import flow, start_generation
from ytmaker.pipelines.control import cancel_project, retry_project
from ytmaker.pipelines.dispatch import send
from ytmaker.projects import create_project

ONCE = {stage: 1 for stage in STAGES}


@pytest.fixture
def settings(tmp_path, database_url):
    return fast_settings(tmp_path, database_url=database_url, image_provider="instant", speech_provider="instant",
                         render_quality="tiny")


def test_a_message_for_a_stage_whose_predecessors_are_not_done_is_dropped(rt, stub_broker):
    # given: a project whose script has not run yet
    project = create_project(rt, SHORT_TEXT)
    start_generation(project.id, rt)

    # when: the thumbnail stage is called for it (a stale retry, a requeued dead letter, an operator)
    with capture_logs() as logs:
        status = stages.stage_function("thumbnail")(rt, project.id)

    # then: nothing ran, nothing was claimed, nothing failed; one line says why
    assert status is None
    assert attempts(rt, project.id) == {"script": 0}
    with rt.db.session() as session:
        assert session.get(Project, project.id).status == "queued"
    assert [e["reason"] for e in logs if e["event"] == "stage_message_dropped"] == ["its predecessors are not all done"]


def test_every_stage_message_early_twice_and_late_at_random_points_changes_nothing(rt, stub_broker, stub_worker):
    # given: three projects running, and every stage's message sent once before its project's script ran
    ids = [create_project(rt, text).id for text in (SHORT_TEXT, TWO_SEGMENT_TEXT, SHORT_TEXT)]
    for project_id in ids:
        for row in TABLE:
            send(rt, row.actor, project_id)
        start_generation(project_id, rt)

    # when: while they run, random stages' messages keep arriving at random moments, and every stage's message
    # arrives twice more after each project completed
    rng, stop = random.Random(13), threading.Event()
    sent_while_running = []

    def pester() -> None:
        while not stop.is_set():
            project_id, row = rng.choice(ids), rng.choice(TABLE)
            send(rt, row.actor, project_id)
            sent_while_running.append(row.name)
            stop.wait(rng.uniform(0.002, 0.03))

    thread = threading.Thread(target=pester, daemon=True)
    thread.start()
    try:
        finals = [wait_for(rt, project_id, timeout_s=120) for project_id in ids]
    finally:
        stop.set()
        thread.join(10)
    for project_id in ids:
        for row in TABLE:
            send(rt, row.actor, project_id)
            send(rt, row.actor, project_id)
    _drain(stub_broker)

    # then: each completed once; every stage ran exactly once; one record of each thing
    ran_once = sum(attempts(rt, project_id) == ONCE for project_id in ids)
    record("messages-early-twice-late", runs=3, passed=ran_once, lost=sum(p.status != "completed" for p in finals),
           duplicates=sum(max(0, n - 1) for project_id in ids for n in attempts(rt, project_id).values()), orphans=0,
           recovery_s=[], notes=f"every stage's message sent before each of 3 projects started, {len(sent_while_running)} "
                                f"more of random stages at random moments while they ran, and every stage's twice after "
                                f"each completed (embedded worker, {rt.settings.resolved_database_url.split(':')[0]}); "
                                f"passed: projects whose every stage ran exactly once; duplicates: extra stage runs")
    assert [p.status for p in finals] == ["completed"] * 3, [p.error for p in finals]
    assert len(sent_while_running) > 20
    for project_id, segments in zip(ids, (1, 2, 1), strict=True):
        assert attempts(rt, project_id) == ONCE
        found = counts(rt, project_id)
        assert (found["images"], found["audio"], found["videos"], found["publications"]) == (segments, segments, 1, 1)
        assert len(list((rt.data_dir / "published").glob(f"*-{project_id[:8]}"))) == 1


def test_a_stage_reopened_by_retry_ignores_the_messages_of_its_earlier_attempts(rt, stub_broker):
    # given: a project whose script and asset stages were sent, then cancelled with those messages still queued
    project = create_project(rt, SHORT_TEXT)
    start_generation(project.id, rt)
    stages.stage_function("script")(rt, project.id)  # sends images, audio and avatars
    cancel_project(rt, project.id)

    # when: it is retried (the asset stages are sent again) and a worker then gets the old and the new messages
    retry_project(rt, project.id)
    with capture_logs() as logs:
        worker = dramatiq.Worker(stub_broker, worker_threads=2, worker_timeout=50)
        worker.start()
        try:
            final = wait_for(rt, project.id, timeout_s=120)
            _drain(stub_broker)
        finally:
            worker.stop()

    # then: the earlier attempt's four messages were dropped as stale; each stage ran once, for the retry
    assert final.status == "completed", final.error
    stale = sorted(e["stage"] for e in logs
                   if e["event"] == "stage_message_dropped" and e["reason"] == "sent before the project's last retry")
    assert stale == ["audio", "avatars", "images", "script"]
    assert attempts(rt, project.id) == ONCE


def test_a_failure_reaching_a_finished_run_changes_nothing(rt, stub_broker, stub_worker):
    # given: a completed project
    project = create_project(rt, SHORT_TEXT)
    assert wait_for(rt, start_generation(project.id, rt), timeout_s=60).status == "completed"

    # when: a shutdown (or any failure) reaches its upload after the run was recorded finished, retried or given up
    flow.note_retry(rt, project.id, "upload", "the worker shut down while the stage ran", 10, 1)
    flow.fail_stage(rt, project.id, "upload", "the worker shut down while the stage ran (gave up after 4 attempts)")
    flow.fail_stage(rt, project.id, "images", "a late failure of a finished asset stage")

    # then: the records still say finished
    with rt.db.session() as session:
        runs = dict(session.execute(select(StageRun.stage, StageRun.status).where(StageRun.project_id == project.id)).all())
        assert session.get(Project, project.id).status == "completed"
    assert runs["upload"] == runs["images"] == "succeeded"


def _drain(broker) -> None:
    for _ in range(2):
        for queue in broker.get_declared_queues():
            broker.join(queue, timeout=60_000, fail_fast=False)
