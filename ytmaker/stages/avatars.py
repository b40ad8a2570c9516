"""Stage 2c, avatars with D-ID: start one talk per segment, then check back by delayed messages.

Without an avatar provider the stage is recorded as skipped rather than
faked, and render goes on without one.

A talk takes minutes. Instead of a worker thread sleeping on it, the stage
starts the talks it can, leaves its run ``running`` and sends ``poll_avatar``
with a delay; each poll checks every pending talk, downloads the finished
ones as avatar assets, starts talks whose narration audio has appeared
since, stamps the stage's heartbeat (so the lease is not taken over) and
sends the next poll with a longer delay. The last one marks the stage
succeeded and advances the pipeline (:func:`flow.finish_stage`).

Talk ids are recorded in the database (``avatar_talks``) as soon as D-ID
gives them, so a redelivered or re-driven stage continues the talks already
paid for, even after Redis (and with it the delayed polls) was lost; only
the newest poll chain goes on.
"""

from __future__ import annotations

import time
import uuid
from datetime import UTC, datetime

import structlog
from sqlalchemy import select, update
from sqlalchemy.exc import IntegrityError

from ytmaker.db.models import AvatarTalk, ProjectStatus, StageStatus
from ytmaker.db.projects import load_project
from ytmaker.errors import PermanentError, TransientError
from ytmaker.graph import stage
from ytmaker.pipelines import flow
from ytmaker.pipelines.dispatch import send
from ytmaker.providers.did_talks import FINISHED, talk_failure
from ytmaker.runtime import Runtime
from ytmaker.stages import heartbeats
from ytmaker.stages.files import existing_assets, record_asset
from ytmaker.stages.runner import StageContext, run_stage
from ytmaker.stages.script import load_script

log = structlog.get_logger(__name__)

STAGE = "avatars"
POLL_ACTOR = stage(STAGE).parts[0]


def run(rt: Runtime, project_id: str) -> StageStatus | None:
    status = run_stage(rt, STAGE, project_id, start_avatars)
    if status == StageStatus.RUNNING:  # D-ID works on; delayed messages check back
        follow(rt, project_id)
    return status


def chain_key(project_id: str) -> str:
    return f"ytmaker:avatars:{project_id}:chain"


def start_avatars(ctx: StageContext) -> StageStatus:
    """The stage's work: skipped without a provider, else start talks and hand over to polling."""
    rt = ctx.rt
    client = rt.providers.avatars
    if client is None:
        ctx.report(100, "no avatar provider configured: skipped")
        return StageStatus.SKIPPED
    done, total = step(rt, ctx.project_id, client)
    if done == total:
        return StageStatus.SUCCEEDED
    ctx.report(100 * done / total, f"avatars: {done} of {total} ready, waiting for D-ID")
    return StageStatus.RUNNING  # finished later by the last poll; see follow()


def follow(rt: Runtime, project_id: str) -> None:
    """Start checking back, once the stage is recorded as running (so no poll can finish it first)."""
    chain = uuid.uuid4().hex
    rt.keys.set(chain_key(project_id), chain, ttl_s=rt.settings.progress_ttl_s)
    send_poll(rt, project_id, chain, attempt=0, started=time.time())


def poll_delay_s(rt: Runtime, attempt: int) -> float:
    """1.5x longer each time, capped, and always well inside the stage's lease."""
    cap = min(rt.settings.did_poll_max_s, rt.settings.stage_lease_s / 2)
    return min(cap, rt.settings.did_poll_first_s * 1.5 ** attempt)


def send_poll(rt: Runtime, project_id: str, chain: str, *, attempt: int, started: float) -> None:
    delay_ms = max(1, int(poll_delay_s(rt, attempt) * 1000))
    send(rt, POLL_ACTOR, project_id, chain, attempt, started, delay_ms=delay_ms)


def poll(rt: Runtime, project_id: str, chain: str, attempt: int, started: float) -> None:
    """One check of the pending talks; then finish the stage, or send the next check."""
    project = load_project(rt, project_id)
    if ProjectStatus(project.status).terminal or rt.keys.get(chain_key(project_id)) != chain:
        return  # the project ended, or a newer run of the stage polls instead
    if not heartbeats.stamp_if_running(rt, project_id, STAGE):
        return  # the stage is no longer running (finished, failed or cancelled)
    client = rt.providers.avatars
    try:
        done, total = step(rt, project_id, client)
    except TransientError as exc:  # D-ID is briefly unavailable: the next check tries again
        log.info("avatar_poll_transient", project_id=project_id, error=str(exc))
        done, total = None, None
    if done is not None and done == total:
        rt.keys.delete(chain_key(project_id))
        flow.finish_stage(rt, project_id, STAGE)
        return
    waited = time.time() - started
    if waited > rt.settings.did_max_wait_s:
        raise PermanentError(f"D-ID did not finish the avatar videos within {rt.settings.did_max_wait_s:.0f} s")
    if done is not None and total:
        rt.progress.update(project_id, stage=STAGE, stage_progress=100 * done / total,
                           message=f"avatars: {done} of {total} ready, waiting for D-ID ({waited:.0f} s)")
    send_poll(rt, project_id, chain, attempt=attempt + 1, started=started)


def step(rt: Runtime, project_id: str, client) -> tuple[int, int]:
    """Collect finished talks and start the ones that can start; returns (segments done, total)."""
    script = load_script(rt, project_id)
    total = len(script.segments)
    done = existing_assets(rt, project_id, "avatar")
    made: set[int] = set()
    talks = started_talks(rt, project_id)
    audio = existing_assets(rt, project_id, "audio") if rt.settings.did_script == "audio" else {}
    folder = rt.project_dir(project_id) / "avatars"
    for index, segment in enumerate(script.segments):
        if index in done:
            continue
        row = talks.get(index)
        if row is None or row.status in ("error", "rejected"):  # none yet, or a retry after a failed one
            _start_talk(rt, project_id, client, index, segment, audio, replace=row is not None)
            continue
        talk = client.talk(row.talk_id)
        status = talk.get("status")
        if status != row.status:
            _set_talk_status(rt, project_id, index, str(status))
        if status not in FINISHED:
            continue
        if status != "done":
            raise talk_failure(talk)
        folder.mkdir(parents=True, exist_ok=True)
        final = folder / f"{index:03d}.mp4"
        client.download(talk["result_url"], final)
        duration = talk.get("duration")
        record_asset(rt, project_id, "avatar", index, final,
                     duration_ms=round(float(duration) * 1000) if duration else None)
        made.add(index)
    return len(done) + len(made), total


def started_talks(rt: Runtime, project_id: str) -> dict[int, AvatarTalk]:
    """The talks recorded for the project, by segment index."""
    with rt.db.session() as session:
        rows = session.scalars(select(AvatarTalk).where(AvatarTalk.project_id == project_id)).all()
    return {row.segment_index: row for row in rows}


def _set_talk_status(rt: Runtime, project_id: str, index: int, status: str) -> None:
    with rt.db.session() as session:
        session.execute(update(AvatarTalk).where(AvatarTalk.project_id == project_id, AvatarTalk.segment_index == index)
                        .values(status=status[:16], updated_at=datetime.now(UTC)))


def _start_talk(rt: Runtime, project_id: str, client, index: int, segment: dict, audio: dict, *, replace: bool) -> None:
    settings = rt.settings
    if settings.did_script == "audio":
        if index not in audio:
            return  # its narration is not made yet: a later check starts it
        audio_url = client.upload_audio(rt.path(audio[index].path))
        talk_id = client.create_talk(source_url=settings.did_source_url, audio_url=audio_url)
    else:
        talk_id = client.create_talk(source_url=settings.did_source_url, text=segment["narration"], voice=settings.did_voice)
    # Recorded at once: from here on the talk is paid for, and every later check follows this one.
    try:
        with rt.db.session() as session:
            if replace:
                session.execute(update(AvatarTalk).where(AvatarTalk.project_id == project_id,
                                                         AvatarTalk.segment_index == index)
                                .values(talk_id=talk_id, status="created", updated_at=datetime.now(UTC)))
            else:
                session.add(AvatarTalk(project_id=project_id, segment_index=index, talk_id=talk_id, status="created"))
    except IntegrityError:  # a concurrent delivery recorded its talk first: that one is followed
        log.warning("avatar_talk_duplicate", project_id=project_id, index=index, talk_id=talk_id)
        return
    log.info("avatar_talk_started", project_id=project_id, index=index, talk_id=talk_id)

