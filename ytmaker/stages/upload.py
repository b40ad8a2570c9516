"""Stage 5: publish the video once — to a folder now, to YouTube with its client.

The publication row is the guard: it is inserted (unique per project and
target) before publishing and marked ``published`` after, and a published row
is never published again, whatever is redelivered.
"""

from __future__ import annotations

from datetime import UTC, datetime

from sqlalchemy import select, update
from sqlalchemy.exc import IntegrityError

from ytmaker.db.models import Publication, StageStatus, Thumbnail, Video
from ytmaker.errors import PermanentError, QuotaExceeded
from ytmaker.providers.base import PublishRequest
from ytmaker.quota import reserve_upload, spend_all, wait_for_reset
from ytmaker.runtime import Runtime
from ytmaker.stages.chapters import chapters
from ytmaker.stages.files import existing_assets, video_timeline
from ytmaker.stages.footage import segment_clip, with_credits
from ytmaker.stages.runner import StageContext, run_stage
from ytmaker.stages.script import load_script


def run(rt: Runtime, project_id: str) -> StageStatus | None:
    return run_stage(rt, "upload", project_id, _upload)


def _publication(rt: Runtime, project_id: str, target: str) -> Publication:
    try:
        with rt.db.single() as session:  # one INSERT
            session.add(Publication(project_id=project_id, target=target, status="pending"))
    except IntegrityError:
        pass
    with rt.db.single() as session:
        return session.scalars(select(Publication).where(Publication.project_id == project_id,
                                                          Publication.target == target)).one()


def _save(rt: Runtime, publication_id: int, **values: object) -> None:
    with rt.db.session() as session:
        session.execute(update(Publication).where(Publication.id == publication_id).values(**values))


def _upload(ctx: StageContext) -> StageStatus:
    rt, project = ctx.rt, ctx.project
    publication = _publication(rt, project.id, project.publish_target)
    if publication.status == "published":
        return StageStatus.SUCCEEDED
    with rt.db.single() as session:  # reads
        video = session.get(Video, project.id)
        thumbnail = session.get(Thumbnail, project.id)
    if video is None or not rt.path(video.path).exists():
        raise PermanentError("the rendered video is missing; run `ytmaker retry` to render it again")
    script = load_script(rt, project.id)
    if project.publish_target == "youtube" and publication.session_uri is None:
        reserve_upload(rt)  # a new upload session: within today's quota, or wait for its reset (ytmaker.quota)
    publisher = rt.providers.publisher(project.publish_target)
    ctx.report(10, f"publishing to {publisher.target}")
    try:
        result = publisher.publish(PublishRequest(
            project_id=project.id,
            title=script.title,
            description=with_credits(_with_chapters(rt, project.id, script.title, script.description, script.segments),
                                     _source(project.source_url) + credits(rt, project.id)),
            tags=list(script.tags),
            language=project.language,
            video=rt.path(video.path),
            thumbnail=rt.path(thumbnail.path) if thumbnail else None,
            session_uri=publication.session_uri,
            save_session=lambda uri: _save(rt, publication.id, session_uri=uri),
            caption_id=publication.caption_id,
            save_caption=lambda caption_id: _save(rt, publication.id, caption_id=caption_id),
            publish_at=project.publish_at,
        ))
    except QuotaExceeded as exc:  # spent elsewhere too (another program on the Google project): wait, don't fail
        spend_all(rt)
        raise wait_for_reset(str(exc).split(". ")[0]) from None
    finally:
        publisher.close()  # its HTTP connections; a publisher is built per upload
    _save(rt, publication.id, status="published", remote_id=result.remote_id, url=result.url, published_at=datetime.now(UTC))
    ctx.report(100, f"published: {result.url}")
    return StageStatus.SUCCEEDED


def _with_chapters(rt: Runtime, project_id: str, title: str, description: str, segments: list[dict]) -> str:
    """The description with the video's chapters before its closing line ("Made with ytmaker."), when its headings
    make chapters YouTube shows."""
    plan = video_timeline(rt, project_id, len(segments))
    marks = chapters(title, segments, plan.starts_s, plan.duration_s) if plan else []
    if not marks:
        return description
    parts = description.rstrip().split("\n\n")
    at = len(parts) - 1 if len(parts) > 1 and "ytmaker" in parts[-1] else len(parts)  # before "Made with ytmaker."
    return "\n\n".join([*parts[:at], "\n".join(marks), *parts[at:]])


def _source(url: str | None) -> list[str]:
    return [f"Source: {url}"] if url else []


def credits(rt: Runtime, project_id: str) -> list[str]:
    """Whom the description credits: the stock clips' and photos' authors, segment by segment."""
    images = existing_assets(rt, project_id, "image")
    return [segment_clip(rt, rt.path(images[i].path)).credit for i in sorted(images)]
