"""Reading and removing projects for the API: the caller's own only, pages by cursor, the files recorded for them."""

from __future__ import annotations

import base64
import shutil
from datetime import datetime
from pathlib import Path

from sqlalchemy import and_, or_, select

from ytmaker.db.models import Project, Publication, Script, StageRun, Thumbnail, Video
from ytmaker.db.projects import check_project_id
from ytmaker.errors import InvalidInput, ProjectNotFound
from ytmaker.graph import STAGES
from ytmaker.runtime import Runtime
from ytmaker.service import schemas
from ytmaker.service.tokens import Caller
from ytmaker.statuses import ProjectStatus

API = "/api/v1"
#: the subtitle files the render stage writes beside the recorded video (ytmaker.media.subtitles.write_subtitles)
SUBTITLES = {"srt": "subtitles.srt", "vtt": "subtitles.vtt"}


def owned_project(rt: Runtime, caller: Caller, project_id: str) -> Project:
    """The project if the caller may see it; ProjectNotFound otherwise (another token's project does not exist for it)."""
    try:
        canonical = check_project_id(project_id)
    except InvalidInput:
        raise ProjectNotFound(str(project_id)[:80]) from None
    with rt.db.single() as session:
        project = session.get(Project, canonical)
    if project is None or not caller.may_see(project.owner_token_id):
        raise ProjectNotFound(canonical)
    return project


def links(project_id: str) -> schemas.Links:
    base = f"{API}/projects/{project_id}"
    return schemas.Links(self=base, events=f"{base}/events", ws=f"{base}/ws", cancel=f"{base}/cancel",
                         retry=f"{base}/retry", video=f"{base}/video", thumbnail=f"{base}/thumbnail",
                         subtitles_srt=f"{base}/subtitles.srt", subtitles_vtt=f"{base}/subtitles.vtt")


def summary(project: Project, live: dict[str, str], script_title: str | None = None) -> schemas.ProjectSummary:
    """``title``: the one asked for, else the script's once it is written (what the page and the list show)."""
    return schemas.ProjectSummary(id=project.id, title=project.title or script_title, status=project.status, error=project.error,
                                  language=project.language, format=project.video_format, created_at=project.created_at,
                                  updated_at=project.updated_at, progress=live)


def detail(rt: Runtime, project: Project) -> schemas.ProjectOut:
    with rt.db.single() as session:  # reads, each its own statement: no BEGIN/COMMIT round trips
        runs = list(session.scalars(select(StageRun).where(StageRun.project_id == project.id)))
        video = session.get(Video, project.id)
        thumbnail = session.get(Thumbnail, project.id)
        publications = list(session.scalars(select(Publication).where(Publication.project_id == project.id)))
        script_title = session.scalar(select(Script.title).where(Script.project_id == project.id))
    order = {name: i for i, name in enumerate(STAGES)}
    runs.sort(key=lambda r: order.get(r.stage, len(order)))
    base = links(project.id)
    has_video = video is not None and rt.path(video.path).is_file()
    subtitles = {kind: video is not None and _inside(rt, rt.path(video.path).parent / name) is not None
                 for kind, name in SUBTITLES.items()}
    outputs = schemas.Outputs(
        video=base.video if has_video else None,
        duration_s=video.duration_ms / 1000 if video is not None else None,
        thumbnail=base.thumbnail if thumbnail is not None and rt.path(thumbnail.path).is_file() else None,
        subtitles_srt=base.subtitles_srt if subtitles["srt"] else None,
        subtitles_vtt=base.subtitles_vtt if subtitles["vtt"] else None,
        # a folder publication's URL is a path on this server: not for clients
        publications=[schemas.Publication(target=p.target, status=p.status,
                                          url=p.url if p.url and p.url.startswith("https://") else None)
                      for p in publications],
    )
    stages = [schemas.StageOut(stage=r.stage, status=r.status, attempts=r.attempts, error=r.error,
                               started_at=r.started_at, finished_at=r.finished_at) for r in runs]
    head = summary(project, rt.progress.get(project.id), script_title)
    return schemas.ProjectOut(**head.model_dump(), failed_stage=project.failed_stage, stages=stages, outputs=outputs,
                              links=base)


def recorded_file(rt: Runtime, project_id: str, name: str) -> Path | None:
    """A file recorded for the project (``video``, ``thumbnail``, ``subtitles.srt|vtt``), inside the data dir, or None.

    Paths come from the database only (subtitles: the fixed names beside the recorded video); nothing a
    request says is joined into them.
    """
    with rt.db.single() as session:
        row = session.get(Thumbnail, project_id) if name == "thumbnail" else session.get(Video, project_id)
    if row is None:
        return None
    path = rt.path(row.path)
    if name.startswith("subtitles."):
        path = path.parent / SUBTITLES[name.removeprefix("subtitles.")]
    return _inside(rt, path)


def _inside(rt: Runtime, path: Path) -> Path | None:
    """``path`` resolved, if it is a file inside the data dir (a recorded path is trusted no further than that)."""
    path = path.resolve()
    return path if path.is_relative_to(rt.data_dir) and path.is_file() else None


def encode_cursor(project: Project) -> str:
    return base64.urlsafe_b64encode(f"{project.created_at.isoformat()}|{project.id}".encode()).decode()


def decode_cursor(cursor: str) -> tuple[datetime, str]:
    try:
        stamp, _, project_id = base64.urlsafe_b64decode(cursor.encode()).decode().partition("|")
        return datetime.fromisoformat(stamp), check_project_id(project_id)
    except (ValueError, UnicodeDecodeError, InvalidInput):
        raise InvalidInput("cursor is not one this server gave (use next_cursor as it came)") from None


def page(rt: Runtime, caller: Caller, *, status: str | None, cursor: str | None, limit: int) -> schemas.ProjectPage:
    """The caller's projects, newest first, ``limit`` at a time."""
    query = select(Project).order_by(Project.created_at.desc(), Project.id.desc()).limit(limit + 1)
    if status is not None:
        if status not in set(ProjectStatus):
            raise InvalidInput(f"status {status!r} is not one of {', '.join(ProjectStatus)}")
        query = query.where(Project.status == status)
    if not caller.admin:
        query = query.where(Project.owner_token_id == caller.token_id)
    if cursor:
        stamp, last_id = decode_cursor(cursor)
        query = query.where(or_(Project.created_at < stamp, and_(Project.created_at == stamp, Project.id < last_id)))
    with rt.db.single() as session:
        projects = list(session.scalars(query))
        more = len(projects) > limit
        projects = projects[:limit]
        titles = dict(session.execute(select(Script.project_id, Script.title)
                                      .where(Script.project_id.in_([p.id for p in projects]))).all())
    items = [summary(p, rt.progress.get(p.id), titles.get(p.id)) for p in projects]
    return schemas.ProjectPage(items=items, next_cursor=encode_cursor(projects[-1]) if more else None)


def delete_project(rt: Runtime, project: Project) -> None:
    """Remove a finished project's records and its working folder (a published copy is the publisher's, kept)."""
    if not ProjectStatus(project.status).terminal:
        raise InvalidInput(f"project {project.id} is {project.status}; cancel it first, then delete it")
    with rt.db.session() as session:
        row = session.get(Project, project.id)
        if row is not None:
            session.delete(row)
    directory = rt.project_dir(project.id).resolve()
    if directory.is_relative_to(rt.data_dir) and directory.is_dir():
        shutil.rmtree(directory, ignore_errors=True)
