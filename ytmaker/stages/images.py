"""Stage 2a: one image per segment, drawn or fetched, in the stage's thread or fanned out.

Each image is written to a temporary file, renamed into place and then
recorded, so a retry skips the segments that are done and never leaves a
half-written file behind a record.

Fan-out: a remote image provider spends its time waiting, so one thread
looping over 20 segments takes 20 round trips in a row. Instead the stage is
left ``running`` and sends ``generate_segment_image`` per missing segment;
any assets worker thread or process takes them. Each part stamps the stage's
heartbeat while it works (so the lease is not taken over), writes its image
like the loop does, and the part that finds every image recorded finishes
the stage. :func:`flow.finish_stage` moves only a ``running`` run, so exactly
one part hands over to render, however the parts interleave or are delivered
twice. If parts are lost (Redis lost them, a worker died), the heartbeat
stops and the re-drive sends the stage again after the lease; it sends parts
only for the images still missing.
"""

from __future__ import annotations

import os

from sqlalchemy import func, select

from ytmaker.db.models import Asset, Project, ProjectStatus, Script, StageStatus
from ytmaker.db.projects import load_project
from ytmaker.errors import Cancelled
from ytmaker.graph import stage
from ytmaker.media.render import SIZES
from ytmaker.pipelines import flow
from ytmaker.pipelines.control import is_cancelled
from ytmaker.pipelines.dispatch import send
from ytmaker.providers.base import ImageRequest
from ytmaker.providers.slides import headline
from ytmaker.runtime import Runtime
from ytmaker.stages import footage, heartbeats, own_media
from ytmaker.stages.files import existing_assets, record_asset, temp_path
from ytmaker.stages.runner import StageContext, run_stage
from ytmaker.stages.script import load_script

STAGE = "images"
PART_ACTOR = stage(STAGE).parts[0]


def run(rt: Runtime, project_id: str) -> StageStatus | None:
    status = run_stage(rt, STAGE, project_id, _images)
    if status == StageStatus.RUNNING:  # fanned out: one message per missing image
        send_parts(rt, project_id)
    return status


def _images(ctx: StageContext) -> StageStatus:
    rt, project = ctx.rt, ctx.project
    script = load_script(rt, project.id)
    total = len(script.segments)
    missing = [i for i in range(total) if i not in existing_assets(rt, project.id, "image")]
    if len(missing) > 1 and rt.settings.fans_out_images:
        # Left running: the segments' messages make the images and the last one finishes the stage.
        ctx.report(100 * (1 - len(missing) / total), f"images: {len(missing)} to make, in parallel")
        return StageStatus.RUNNING
    for made, index in enumerate(missing, start=total - len(missing) + 1):
        ctx.check_cancelled()
        make_image(rt, project, script, index)
        ctx.report(100 * made / total, f"image {made} of {total}")
    return StageStatus.SUCCEEDED


def make_image(rt: Runtime, project: Project, script: Script, index: int) -> None:
    """Draw or fetch one segment's image into place and record it."""
    segment = script.segments[index]
    width, height = SIZES[(project.video_format, "final")]
    folder = rt.project_dir(project.id) / "images"
    folder.mkdir(parents=True, exist_ok=True)
    final = folder / f"{index:03d}.png"
    tmp = temp_path(final)
    request = ImageRequest(index=index, description=segment["image_description"],
                           caption=segment.get("headline") or headline(segment["narration"]), topic=script.title,
                           width=width, height=height, aspect_ratio=project.video_format,
                           narration=segment["narration"], language=project.language)
    provider = own_media.for_project(rt, project, script) or rt.providers.images
    try:
        if hasattr(provider, "footage"):  # a clip beside the poster (ytmaker.stages.footage)
            got = provider.footage(request, tmp)
            footage.write_sidecar(rt, final, got)
            warning = got.warning
        else:
            warning = provider.generate(request, tmp)
        os.replace(tmp, final)
    finally:
        tmp.unlink(missing_ok=True)
    record_asset(rt, project.id, "image", index, final, warning=warning)


def send_parts(rt: Runtime, project_id: str) -> list[int]:
    """One message per segment whose image is missing (sent once the stage is recorded as running)."""
    total = len(load_script(rt, project_id).segments)
    done = existing_assets(rt, project_id, "image")
    missing = [i for i in range(total) if i not in done]
    for index in missing:
        send(rt, PART_ACTOR, project_id, index)
    if not missing:  # every image appeared meanwhile (a part of an earlier run): finish here
        flow.finish_stage(rt, project_id, STAGE)
    return missing


def make_part(rt: Runtime, project_id: str, index: int) -> bool:
    """Make segment ``index``'s image unless it exists; finish the stage if it was the last. Returns whether it made it."""
    project = load_project(rt, project_id)
    if ProjectStatus(project.status).terminal or not heartbeats.stamp_if_running(rt, project.id, STAGE):
        return False  # the project ended, or the stage is no longer running (finished, failed, or sent again)
    if is_cancelled(rt, project.id):
        raise Cancelled("the project was cancelled")
    script = load_script(rt, project.id)
    made = False
    if index not in existing_assets(rt, project.id, "image"):
        with heartbeats.beating(rt, project.id, STAGE):
            make_image(rt, project, script, index)
        made = True
    total = len(script.segments)
    done = _count_images(rt, project.id)
    if done >= total:
        flow.finish_stage(rt, project.id, STAGE)
    else:
        rt.progress.update(project.id, stage=STAGE, stage_progress=100 * done / total, message=f"image {done} of {total}")
    return made


def _count_images(rt: Runtime, project_id: str) -> int:
    with rt.db.session() as session:
        return session.scalar(select(func.count(func.distinct(Asset.segment_index)))
                              .where(Asset.project_id == project_id, Asset.kind == "image")) or 0
