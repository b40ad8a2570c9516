"""Redis restarted with its data lost, and PostgreSQL connections dropped, while projects run."""

from __future__ import annotations

import time
from datetime import UTC, datetime

import pytest
from sqlalchemy import select

from tests.chaos.conftest import QUICK_RECOVERY, record
from tests.helpers import SHORT_TEXT, TWO_SEGMENT_TEXT, attempts
from ytmaker.db.models import Asset, Video
from ytmaker.media.probe import probe
from ytmaker.pipelines import start_generation
from ytmaker.projects import create_project
from ytmaker.stages.files import sha256

pytestmark = [pytest.mark.slow, pytest.mark.redis, pytest.mark.postgres]


def start_projects(chaos, count: int, text: str = SHORT_TEXT) -> list[str]:
    ids = []
    for _ in range(count):
        project = create_project(chaos.rt, text)
        start_generation(project.id, chaos.rt)
        ids.append(project.id)
    return ids


def half_written(chaos, project_ids: list[str]) -> list[str]:
    """Records whose file is missing or differs from its checksum, and videos that do not play."""
    bad = []
    with chaos.rt.db.session() as session:
        assets = session.scalars(select(Asset).where(Asset.project_id.in_(project_ids))).all()
        videos = session.scalars(select(Video).where(Video.project_id.in_(project_ids))).all()
    for asset in assets:
        path = chaos.rt.path(asset.path)
        if not path.exists() or sha256(path) != asset.checksum:
            bad.append(f"{asset.kind} {asset.segment_index} of {asset.project_id[:8]}")
    for video in videos:
        if probe(chaos.rt.path(video.path)).duration_s <= 0:
            bad.append(f"video of {video.project_id[:8]}")
    return bad


def test_redis_restarted_without_its_data_mid_run_every_project_still_completes(chaos):
    # given: projects in flight on a Redis that keeps nothing on disk (--save "")
    # (the periodic re-drive waits its default 120 s: only the workers noticing the empty Redis can be in time)
    chaos.configure(env=dict(CHAOS_DELAY_IMAGES_MS="700", CHAOS_DELAY_SCRIPT_MS="500"), **QUICK_RECOVERY)
    chaos.start("all", threads=4)
    ids = start_projects(chaos, 4)
    chaos.wait_until(lambda: "images" in chaos.running(), 60, "the asset stages to run")

    # when: Redis dies and comes back empty: queues, in-flight messages, progress and locks are gone
    chaos.server.kill()
    time.sleep(2)  # the outage's length: nothing is waited for, Redis is simply away this long
    chaos.server.start()
    back = datetime.now(UTC)
    final = chaos.wait_all(ids, timeout_s=120)

    # then: a worker notices at once that Redis forgot everything and re-sends from the database; every
    # project completes once, well before the periodic re-drive would have
    audit = chaos.audit(ids)
    recovery = chaos.completed_after(ids, back)
    resent = [w for w in chaos.workers if "redis_data_lost_stages_resent" in w.log.read_text(errors="replace")]
    record("redis-restart-data-lost", runs=len(ids), passed=sum(p.status == "completed" for p in final.values()),
           lost=audit["lost"], duplicates=audit["duplicates"], orphans=chaos.orphans(), recovery_s=recovery,
           notes="redis-server (no persistence) SIGKILLed with stages running, restarted empty after 2 s; "
                 "default redrive_after_s (120 s): the workers' marker check re-sends; "
                 "time from Redis being back to each completion")
    assert audit["lost"] == 0 and audit["duplicates"] == 0, audit["problems"]
    assert audit["leftovers"] == []
    assert resent and max(recovery) < 60
    # the consumers, the ticker's jobs and the progress writer rode out the outage with one line each, not a flood
    logs = [w.log.read_text(errors="replace") for w in chaos.workers]
    for text in logs:
        noted = "\n".join(line for line in text.splitlines() if "[INFO]" not in line and '"info"' not in line)[-5000:]
        assert text.count("redis_consumers_failing") == 1 and "redis_consumers_recovered" in text, noted
        assert "[CRITICAL] Consumer encountered" not in text and "Restarting consumer" not in text
        assert text.count("progress_writer_failing") <= 1


def test_dropped_postgresql_connections_mid_stage_are_waited_out_without_half_written_rows(chaos):
    # given: a fleet whose PostgreSQL connection is terminated at three writes of every project, once each:
    # between an image's row and the next one's, the same for narrations, and as the render records its video
    points = ["image-1", "audio-1", "video"]
    chaos.configure(env=dict(CHAOS_PG_DROP=",".join(points)))
    chaos.start("all", threads=4)

    # when: projects of two segments each run through it
    started = datetime.now(UTC)
    ids = start_projects(chaos, 4, TWO_SEGMENT_TEXT)
    final = chaos.wait_all(ids, timeout_s=120)

    # then: each stage that lost its connection waited for the database and repeated the write, without spending
    # an attempt; every record is whole
    dropped = chaos.played("pg-drop-")
    audit = chaos.audit(ids)
    bad = half_written(chaos, ids)
    retried = {project_id[:8]: {stage: n for stage, n in attempts(chaos.rt, project_id).items() if n != 1}
               for project_id in ids}
    record("postgres-connections-dropped", runs=len(ids), passed=sum(p.status == "completed" for p in final.values()),
           lost=audit["lost"], duplicates=audit["duplicates"] + len(bad), orphans=chaos.orphans(),
           recovery_s=chaos.completed_after(ids, started),
           notes=f"pg_terminate_backend on the connection of a write, at {', '.join(points)} of every project "
                 f"({len(dropped)} connections dropped); half-written rows counted with duplicates; "
                 "recovery column: start to completion")
    assert dropped == sorted(f"pg-drop-{point}-{project_id}" for point in points for project_id in ids)
    assert audit["lost"] == 0 and audit["duplicates"] == 0, audit["problems"]
    assert bad == [] and audit["leftovers"] == []
    assert retried == {project_id[:8]: {} for project_id in ids}  # waited out where it happened: no attempt spent
